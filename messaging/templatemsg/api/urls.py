from django.urls import path

from . import views as template_views

urlpatterns = [
    path(
        "accounts/<str:appid>/template-messages/",
        template_views.TemplateMessageListView.as_view(),
        name="api-template-messages",
    ),
    path(
        "accounts/<str:appid>/template-messages/<int:pk>/",
        template_views.TemplateMessageDetailView.as_view(),
        name="api-template-message",
    ),
]
