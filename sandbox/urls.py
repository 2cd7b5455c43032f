from django.urls import path

from . import simulator, views

app_name = "sandbox"
urlpatterns = [
    path("simulator/", simulator.phone_page, name="simulator"),
    path("mmbiz/<str:key>", views.article_image, name="article_image"),
    path("<path:api>", views.api, name="api"),
]
