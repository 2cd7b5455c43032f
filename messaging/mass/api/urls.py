from django.urls import path

from .views import MassMessageCancelView, MassMessageDetailView, MassMessageListView

urlpatterns = [
    path("accounts/<str:appid>/mass-messages/", MassMessageListView.as_view(), name="api-mass-messages"),
    path("accounts/<str:appid>/mass-messages/<int:pk>/", MassMessageDetailView.as_view(), name="api-mass-message"),
    path("accounts/<str:appid>/mass-messages/<int:pk>/cancel/", MassMessageCancelView.as_view(), name="api-mass-message-cancel"),
]
