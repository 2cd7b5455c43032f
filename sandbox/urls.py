from django.urls import path

from . import simulator, simulator_menu, views

app_name = "sandbox"
urlpatterns = [
    path("simulator/", simulator.phone_page, name="simulator"),
    path("simulator/menu/", simulator_menu.menu_tap, name="simulator_menu"),
    path("<path:api>", views.api, name="api"),
]
