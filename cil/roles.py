"""The roles a user can hold in a conference."""

from django.db import models


class RoleName(models.TextChoices):
    SECRETARIAT = "secretariat", "Secrétariat de la CIL"
    BAILLEUR = "bailleur", "Bailleur"
    ELU = "elu", "Élu"
    PREFECTURE = "prefecture", "Préfecture / DDETS"
    MEMBRE = "membre", "Membre"
