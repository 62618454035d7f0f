app_name = "ppa"

urlpatterns: list = []
