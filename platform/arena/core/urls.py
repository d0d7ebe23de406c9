from django.urls import path

from arena.core import views

urlpatterns = [path("files/<str:token>/", views.signed_file, name="signed-file")]
