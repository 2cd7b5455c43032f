from django.urls import path

from . import simulator, simulator_menu, simulator_qr, views

app_name = "sandbox"
urlpatterns = [
    path("simulator/", simulator.phone_page, name="simulator"),
    path("simulator/scan/", simulator_qr.scan, name="simulator_scan"),
    path("simulator/timeline/", simulator.timeline_partial, name="simulator_timeline"),
    path("simulator/menu/", simulator_menu.menu_tap, name="simulator_menu"),
    path("mmbiz/<str:key>", views.article_image, name="article_image"),
    path("<path:api>", views.api, name="api"),
]
