"""The instruments shipped with the portal, loaded by the data migration
`0002_shipped_instruments`. Frozen once shipped: a change is a new version, loaded by a
new migration (never an edit of these lists, which earlier evaluations were filled with).
Others are added by configuration (the builder page, the Django admin), not code.
"""

from __future__ import annotations

# --- Zarit caregiver-burden interview (22 items) --------------------------------------------------
# Sources: Zarit SH, Reever KE, Bach-Peterson J. "Relatives of the impaired elderly:
# correlates of feelings of burden". The Gerontologist 1980;20(6):649-655 (the 22-item
# revised version: Zarit & Zarit 1987). French translation validated by Hébert R., Bravo G.,
# Girouard D. "Fidélité de la traduction de trois instruments d'évaluation des aidants
# naturels de malades déments", Revue canadienne du vieillissement 1993;12(3):324-337
# ("Inventaire du fardeau"). Items 1–21 scored 0 (jamais) to 4 (presque toujours), item 22
# 0 (pas du tout) to 4 (extrêmement); total 0–88. Bands as commonly published with the
# scale (Zarit 1980; Hébert 1993; checked against several French clinical sheets):
# 0–20 little or no burden, 21–40 mild to moderate, 41–60 moderate to severe, 61–88 severe.
# The ZBI is distributed under licence by the Mapi Research Trust (eprovide.mapi-trust.org):
# a structure using it in production must hold that licence; the wording below follows the
# published French items in substance.

FREQUENCY = [
    {"value": "0", "label": "Jamais", "score": 0},
    {"value": "1", "label": "Rarement", "score": 1},
    {"value": "2", "label": "Parfois", "score": 2},
    {"value": "3", "label": "Assez souvent", "score": 3},
    {"value": "4", "label": "Presque toujours", "score": 4},
]
BURDEN = [
    {"value": "0", "label": "Pas du tout", "score": 0},
    {"value": "1", "label": "Un peu", "score": 1},
    {"value": "2", "label": "Moyennement", "score": 2},
    {"value": "3", "label": "Beaucoup", "score": 3},
    {"value": "4", "label": "Extrêmement", "score": 4},
]
ZARIT_ITEMS = [
    "Sentez-vous que votre proche vous demande plus d'aide qu'il n'en a besoin ?",
    "Sentez-vous que le temps consacré à votre proche ne vous en laisse pas assez pour vous-même ?",
    "Vous sentez-vous tiraillé·e entre les soins à votre proche et vos autres responsabilités"
    " (familiales ou de travail) ?",
    "Vous sentez-vous embarrassé·e par les comportements de votre proche ?",
    "Vous sentez-vous en colère quand vous êtes en présence de votre proche ?",
    "Sentez-vous que votre proche nuit à vos relations avec d'autres membres de la famille ou des amis ?",
    "Avez-vous peur de ce que l'avenir réserve à votre proche ?",
    "Sentez-vous que votre proche est dépendant de vous ?",
    "Vous sentez-vous tendu·e en présence de votre proche ?",
    "Sentez-vous que votre santé s'est détériorée à cause de votre implication auprès de votre proche ?",
    "Sentez-vous que vous n'avez pas autant d'intimité que vous aimeriez à cause de votre proche ?",
    "Sentez-vous que votre vie sociale s'est détériorée du fait que vous prenez soin de votre proche ?",
    "Vous sentez-vous mal à l'aise de recevoir des amis à cause de votre proche ?",
    "Sentez-vous que votre proche semble s'attendre à ce que vous preniez soin de lui comme si vous"
    " étiez la seule personne sur qui il puisse compter ?",
    "Sentez-vous que vous n'avez pas assez d'argent pour prendre soin de votre proche, compte tenu"
    " de vos autres dépenses ?",
    "Sentez-vous que vous ne serez plus capable de prendre soin de votre proche encore bien longtemps ?",
    "Sentez-vous que vous avez perdu le contrôle de votre vie depuis la maladie de votre proche ?",
    "Souhaitez-vous pouvoir laisser le soin de votre proche à quelqu'un d'autre ?",
    "Sentez-vous que vous ne savez pas trop quoi faire pour votre proche ?",
    "Sentez-vous que vous devriez en faire plus pour votre proche ?",
    "Sentez-vous que vous pourriez donner de meilleurs soins à votre proche ?",
    "En fin de compte, à quel point sentez-vous que le fait de prendre soin de votre proche"
    " est une charge, un fardeau ?",
]

ZARIT = {
    "code": "zarit-22",
    "title": "Échelle de Zarit — fardeau de l'aidant (22 items)",
    "kind": "evaluation",
    "description": "Inventaire du fardeau ressenti par l'aidant. L'aidant répond ; le total va de 0 à 88.",
    "source": "Zarit SH, Reever KE, Bach-Peterson J. The Gerontologist 1980;20(6):649-655. "
    "Traduction française : Hébert R, Bravo G, Girouard D. Revue canadienne du vieillissement "
    "1993;12(3):324-337. Licence : Mapi Research Trust.",
    "definition": {
        "sections": [
            {
                "title": "À quelle fréquence vous arrive-t-il de…",
                "questions": [
                    {
                        "code": f"z{n:02d}",
                        "text": text,
                        "type": "single",
                        "required": True,
                        "scored": True,
                        "choices": BURDEN if n == 22 else FREQUENCY,
                    }
                    for n, text in enumerate(ZARIT_ITEMS, start=1)
                ],
            }
        ],
        "scoring": {
            "method": "sum",
            "bands": [
                {
                    "min": 0,
                    "max": 20,
                    "label": "Fardeau absent ou léger",
                    "interpretation": "Peu ou pas de fardeau ressenti. Continuer à soutenir l'aidant et "
                    "refaire l'évaluation si la situation change.",
                },
                {
                    "min": 21,
                    "max": 40,
                    "label": "Fardeau léger à modéré",
                    "interpretation": "Fardeau présent. Informer l'aidant des aides possibles (plateforme de "
                    "répit, associations, groupes de parole).",
                },
                {
                    "min": 41,
                    "max": 60,
                    "label": "Fardeau modéré à sévère",
                    "interpretation": "Fardeau important. Proposer un soutien et du répit, revoir le plan "
                    "d'aide avec l'aidant.",
                },
                {
                    "min": 61,
                    "max": 88,
                    "label": "Fardeau sévère",
                    "interpretation": "Risque d'épuisement de l'aidant. Organiser rapidement un relais et un "
                    "soutien, en parler avec le médecin traitant de l'aidant.",
                },
            ],
        },
        # SERAFIN-PH needs of the person that a heavy burden on the carer points to; shown
        # as proposals, added to the plan only when a professional accepts them.
        "needs": [
            {
                "serafin": "1.3.3.4",
                "description": "Soutien de la vie familiale et répit de l'aidant (échelle de Zarit : "
                "fardeau modéré à sévère ou plus).",
                "when": {"score_min": 41},
            },
            {
                "serafin": "1.3.5.1",
                "description": "Ressources : l'aidant dit manquer d'argent pour prendre soin de son proche "
                "(échelle de Zarit, item 15).",
                "when": {"question": "z15", "values": ["3", "4"]},
            },
        ],
    },
}

# --- Referral form for a coordination service (DAC) ------------------------------------------------
# Sources: Code de la santé publique, art. L.6327-1 to L.6327-3 and D.6327-1 (dispositifs
# d'appui à la coordination, loi n° 2019-774 du 24 juillet 2019, art. 23): a DAC may be
# asked by any professional, the person or their carers; the person is informed and may
# object (L.6327-1). The fields follow the regional DAC referral sheets (situation,
# requester, urgency, consent). The questions `urgency` and `consent` are read by
# `services.referral_send`; keep their codes in every version.

REFERRAL = {
    "code": "orientation-dac",
    "title": "Fiche d'orientation vers un dispositif d'appui à la coordination",
    "kind": "referral",
    "description": "Pour signaler une situation complexe à un DAC, avec l'accord de la personne.",
    "source": "Code de la santé publique, art. L.6327-1 à L.6327-3 et D.6327-1 (loi n° 2019-774, art. 23).",
    "definition": {
        "sections": [
            {
                "title": "La personne",
                "questions": [
                    {"code": "person_name", "text": "Nom et prénom de la personne", "type": "text", "required": True},
                    {"code": "birth_date", "text": "Date de naissance", "type": "date"},
                    {"code": "address", "text": "Commune où elle vit", "type": "text", "required": True},
                    {"code": "lives_alone", "text": "Vit-elle seule ?", "type": "yes_no"},
                ],
            },
            {
                "title": "La situation",
                "questions": [
                    {
                        "code": "difficulties",
                        "text": "Difficultés repérées",
                        "type": "multiple",
                        "required": True,
                        "choices": [
                            {"value": "health", "label": "Santé, soins"},
                            {"value": "autonomy", "label": "Perte d'autonomie"},
                            {"value": "housing", "label": "Logement"},
                            {"value": "isolation", "label": "Isolement"},
                            {"value": "carer", "label": "Aidant épuisé ou absent"},
                            {"value": "rights", "label": "Droits, démarches administratives"},
                            {"value": "other", "label": "Autre"},
                        ],
                    },
                    {
                        "code": "difficulties_other",
                        "text": "Précisez l'autre difficulté",
                        "type": "text",
                        "required": True,
                        "show_if": {"question": "difficulties", "values": ["other"]},
                    },
                    {
                        "code": "situation",
                        "text": "Décrivez la situation et ce qui est attendu du dispositif",
                        "type": "long_text",
                        "required": True,
                    },
                ],
            },
            {
                "title": "Qui fait la demande",
                "questions": [
                    {
                        "code": "requester_role",
                        "text": "Vous êtes",
                        "type": "single",
                        "required": True,
                        "choices": [
                            {"value": "professional", "label": "Un professionnel"},
                            {"value": "person", "label": "La personne elle-même"},
                            {"value": "carer", "label": "Un proche, un aidant"},
                        ],
                    },
                    {
                        "code": "requester_organisation",
                        "text": "Votre structure ou votre profession",
                        "type": "text",
                        "required": True,
                        "show_if": {"question": "requester_role", "values": ["professional"]},
                    },
                    {
                        "code": "requester_phone",
                        "text": "Un numéro pour vous joindre",
                        "type": "text",
                        "required": True,
                    },
                ],
            },
            {
                "title": "Urgence et accord de la personne",
                "questions": [
                    {
                        "code": "urgency",
                        "text": "Urgence",
                        "type": "single",
                        "required": True,
                        "choices": [
                            {"value": "low", "label": "Pas urgent"},
                            {"value": "medium", "label": "Dans la semaine"},
                            {"value": "high", "label": "Urgent (sous 48 heures)"},
                        ],
                    },
                    {
                        "code": "consent",
                        "text": "La personne est-elle d'accord pour que sa situation soit transmise ?",
                        "type": "yes_no",
                        "required": True,
                        "help": "Sans son accord, l'orientation n'est pas envoyée.",
                    },
                    {
                        "code": "consent_how",
                        "text": "Comment a-t-elle donné son accord ?",
                        "type": "single",
                        "required": True,
                        "show_if": {"question": "consent", "values": ["oui"]},
                        "choices": [
                            {"value": "oral", "label": "À l'oral"},
                            {"value": "written", "label": "Par écrit"},
                            {"value": "self", "label": "C'est elle qui fait la demande"},
                        ],
                    },
                ],
            },
        ]
    },
}

# --- Satisfaction of persons and carers ----------------------------------------------------------
# Written for the portal (no published instrument): the themes of the HAS quality
# framework for social and medico-social structures (Référentiel d'évaluation de la qualité
# des ESSMS, HAS 2022, chapitre 1 « La personne ») — being listened to, information,
# respect, support, and an overall mark. A structure adapts it by a new version or makes its own.

AGREEMENT = [
    {"value": "1", "label": "Pas du tout d'accord", "score": 1},
    {"value": "2", "label": "Plutôt pas d'accord", "score": 2},
    {"value": "3", "label": "Plutôt d'accord", "score": 3},
    {"value": "4", "label": "Tout à fait d'accord", "score": 4},
]

SATISFACTION = {
    "code": "satisfaction-accompagnement",
    "title": "Votre avis sur l'accompagnement",
    "kind": "satisfaction",
    "description": "Quelques questions sur l'accompagnement proposé par la structure.",
    "source": "Rédigé pour le portail, d'après les thèmes du référentiel d'évaluation de la qualité des ESSMS "
    "(HAS, 2022, chapitre 1).",
    "definition": {
        "sections": [
            {
                "title": "L'accompagnement",
                "questions": [
                    {
                        "code": "listened",
                        "text": "On m'écoute et on tient compte de mon avis.",
                        "type": "single",
                        "required": True,
                        "choices": AGREEMENT,
                    },
                    {
                        "code": "informed",
                        "text": "On m'explique bien ce qui est prévu pour moi.",
                        "type": "single",
                        "required": True,
                        "choices": AGREEMENT,
                    },
                    {
                        "code": "respected",
                        "text": "On me respecte, ma vie privée aussi.",
                        "type": "single",
                        "required": True,
                        "choices": AGREEMENT,
                    },
                    {
                        "code": "overall",
                        "text": "Quelle note donnez-vous à l'accompagnement, de 0 à 10 ?",
                        "type": "scale",
                        "min": 0,
                        "max": 10,
                        "required": True,
                    },
                    {
                        "code": "comment",
                        "text": "Voulez-vous ajouter quelque chose ?",
                        "type": "long_text",
                        "help": "N'écrivez pas de nom : votre réponse est lue par l'équipe.",
                    },
                ],
            }
        ]
    },
}

SHIPPED = (ZARIT, REFERRAL, SATISFACTION)


def load_shipped(questionnaire_model, version_model) -> None:
    """Create each shipped instrument with its first version, published (idempotent)."""
    from django.utils import timezone

    now = timezone.now()
    for instrument in SHIPPED:
        questionnaire, created = questionnaire_model.objects.get_or_create(
            code=instrument["code"],
            defaults={
                "title": instrument["title"],
                "kind": instrument["kind"],
                "description": instrument["description"],
                "source": instrument["source"],
            },
        )
        if created:
            version_model.objects.create(
                questionnaire=questionnaire,
                number=1,
                status="published",
                published_at=now,
                definition=instrument["definition"],
                change_note="Version fournie avec le portail.",
            )
