from django.apps import AppConfig


class PpaConfig(AppConfig):
    name = "ppa"
    verbose_name = "Projet personnalisé d'accompagnement"
