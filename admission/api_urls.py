app_name = "admission_api"

urlpatterns: list = []
