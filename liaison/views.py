"""Pages of the liaison notebook. Every page loads the person through the gate."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from coordination import access
from coordination.models import Category, Person
from documents.uploads import private_file_response
from liaison import selectors, services
from liaison.forms import CorrectionForm, NotebookFilterForm, TransmissionForm
from liaison.models import Addressee, Attachment, Transmission

# Service field names that the page form calls differently.
_FORM_FIELDS = {"attachments": "files"}


def _add_errors(form, error: ValidationError) -> None:
    add_service_errors(form, error, _FORM_FIELDS)


def _with_details(queryset):
    """The transmissions with what the API's serializers read (prefetched relations)."""
    return queryset.select_related("author", "author_structure", "corrects").prefetch_related(
        "attachments",
        Prefetch("addressees", queryset=Addressee.objects.select_related("user")),
        Prefetch("corrections", queryset=Transmission.objects.only("pk", "corrects_id", "observed_at")),
    )


def _for_pages(queryset):
    """The transmissions as the pages list them; `_decorate` loads the rest. Not the
    search column (the largest, never shown) nor the corrected transmission (only its date
    is shown: `_decorate` reads it with the corrections)."""
    return queryset.select_related("author", "author_structure").defer("search_document")


def _decorate(items, user):
    """What the transmission snippet shows, computed once per item in Python: the feed
    renders 25 of them per page and template filters cost more than these lines.

    The attachments, addressees and corrections of the items are read here, one query
    each (the dates of the corrected transmissions with the corrections), rather than by
    `prefetch_related`: it cloned a queryset per item and relation (75 per page), a
    fifth of the feed's time (bench/README.md)."""
    if not items:
        return items
    ids = [item.pk for item in items]
    attachments: dict[int, list[Attachment]] = {pk: [] for pk in ids}
    for attachment in Attachment.objects.filter(transmission_id__in=ids).order_by("uploaded_at", "pk"):
        attachments[attachment.transmission_id].append(attachment)
    addressees: dict[int, list[Addressee]] = {pk: [] for pk in ids}
    for addressee in Addressee.objects.filter(transmission_id__in=ids).select_related("user").order_by("pk"):
        addressees[addressee.transmission_id].append(addressee)
    corrected = {item.corrects_id for item in items if item.corrects_id}
    corrections: dict[int, list[tuple[int, str]]] = {pk: [] for pk in ids}
    corrected_at: dict[int, str] = {}
    related = Transmission.objects.filter(corrects_id__in=ids)
    if corrected:
        related = related | Transmission.objects.filter(pk__in=corrected)
    for pk, corrects_id, observed_at in related.order_by("-observed_at", "-pk").values_list(
        "pk", "corrects_id", "observed_at"
    ):
        if corrects_id in corrections:
            corrections[corrects_id].append((pk, _when(observed_at)))
        if pk in corrected:
            corrected_at[pk] = _when(observed_at)
    now = timezone.now()
    for item in items:
        item.can_edit = item.author_id == user.pk and not item.is_withdrawn and now <= item.editable_until()
        item.addressee_list = addressees[item.pk]
        item.my_addressee = next((a for a in item.addressee_list if a.user_id == user.pk), None)
        item.receipt_count = sum(1 for a in item.addressee_list if a.acknowledged_at)
        item.attachment_list = attachments[item.pk]
        item.correction_list = corrections[item.pk]
        observed = timezone.localtime(item.observed_at)
        item.observed_iso = observed.isoformat()
        item.observed_label = _when(observed)
        created = timezone.localtime(item.created_at)
        item.created_label = (
            _when(created)
            if created.replace(second=0, microsecond=0) != observed.replace(second=0, microsecond=0)
            else ""
        )
        item.corrects_label = corrected_at.get(item.corrects_id, "") if item.corrects_id else ""
    return items


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M}"


def _load(request, transmission_id: int, action: str = "read") -> Transmission:
    transmission = get_object_or_404(Transmission.objects.select_related("person"), pk=transmission_id)
    access.require(request.user, transmission.person, Category.LIAISON, action, path=request.path)
    if not selectors.can_see(request.user, transmission):
        raise Http404
    return transmission


@login_required
def notebook(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's notebook: newest first, filters, full-text search, and the form to post."""
    try:
        person_id = int(person_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if request.method == "POST" or request.GET.get("formulaire"):
        grant = access.require(request.user, person_id, Category.LIAISON, "read", path=request.path, probe_write=True)
        person, can_write = grant.person, grant.can_write
        if request.method == "POST":
            return _post(request, person, can_write)
        # The composer, fetched when its <details> is first opened (HTMX).
        if not can_write:
            access.require(request.user, person, Category.LIAISON, "write", path=request.path)
        return render(
            request,
            "liaison/snippets/transmission_form.html",
            {"person": person, "form": TransmissionForm(user=request.user, person=person)},
        )
    # The access log's row and the read marks in one transaction: one commit per page.
    with access.atomic_with_log():
        grant = access.require(request.user, person_id, Category.LIAISON, "read", path=request.path, probe_write=True)
        person, can_write = grant.person, grant.can_write
        filters = NotebookFilterForm(request.GET or None, person=person)
        queryset = filters.apply(selectors.notebook(request.user, person))
        page = selectors.newest_first(_for_pages(queryset), request.GET.get("apres"))
        _decorate(page.items, request.user)
        services.mark_read(actor=request.user, transmissions=page.items)
    # The composer is folded by default: it is rendered on demand (HTMX when its <details>
    # opens, or `?nouvelle=1` without JavaScript). Its addressee and choice widgets were
    # a third of the page's time (bench/liaison.py).
    open_form = can_write and bool(request.GET.get("nouvelle"))
    context = {
        "person": person,
        "page": page,
        "filters": filters,
        "can_write": can_write,
        "form": TransmissionForm(user=request.user, person=person) if open_form else None,
    }
    if request.htmx and request.GET.get("apres"):
        return render(request, "liaison/snippets/transmission_items.html", context)
    return render(request, "liaison/notebook.html", context)


def _post(request, person: Person, can_write: bool) -> HttpResponse:
    if not can_write:
        access.require(request.user, person, Category.LIAISON, "write", path=request.path)
    form = TransmissionForm(request.POST, request.FILES, user=request.user, person=person)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.transmission_create(actor=request.user, person=person, **data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, "Transmission enregistrée.")
                return redirect("liaison:notebook", person_id=person.pk)
            # HTMX: swap in the timeline with the new transmission on top (the composer
            # folded again, fetched afresh when reopened).
            filters = NotebookFilterForm(person=person)
            page = selectors.newest_first(_for_pages(selectors.notebook(request.user, person)), None)
            _decorate(page.items, request.user)
            return render(
                request,
                "liaison/snippets/notebook_body.html",
                {
                    "person": person,
                    "page": page,
                    "filters": filters,
                    "can_write": True,
                    "htmx_messages": ["Transmission enregistrée."],
                },
            )
    filters = NotebookFilterForm(person=person)
    page = selectors.newest_first(_for_pages(selectors.notebook(request.user, person)), None)
    _decorate(page.items, request.user)
    template = "liaison/snippets/notebook_body.html" if request.htmx else "liaison/notebook.html"
    return render(
        request,
        template,
        {"person": person, "page": page, "filters": filters, "can_write": True, "form": form},
        status=400,
    )


@login_required
def feed(request: HttpRequest) -> HttpResponse:
    """My feed across the persons I follow: unread first."""
    filters = NotebookFilterForm(request.GET or None)
    scope, since = selectors.feed_start(request.user)
    queryset = filters.apply(selectors.feed(request.user, scope)).select_related("person")
    page = selectors.unread_first(request.user, _for_pages(queryset), request.GET.get("apres"), since=since)
    _decorate(page.items, request.user)
    access.log_many(
        request.user, list({t.person_id: t.person for t in page.items}.values()), Category.LIAISON, path=request.path
    )
    unread = selectors.unread_count(request.user, since, scope)
    template = "liaison/snippets/feed_items.html" if request.htmx and request.GET.get("apres") else "liaison/feed.html"
    return render(
        request,
        template,
        {"page": page, "filters": filters, "unread": unread, "unread_cap": selectors.UNREAD_COUNT_CAP},
    )


@login_required
@require_POST
def feed_mark_read(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("transmission") if i.isdigit()]
    if ids:
        services.mark_read(
            actor=request.user, transmissions=list(selectors.feed(request.user).filter(pk__in=ids).only("pk"))
        )
    else:
        services.mark_all_read(actor=request.user)
    messages.success(request, "Marqué comme lu.")
    return redirect("liaison:feed")


@login_required
def transmission_detail(request: HttpRequest, transmission_id: int) -> HttpResponse:
    """One transmission with its earlier versions and corrections."""
    transmission = _load(request, transmission_id)
    items = _decorate([_for_pages(Transmission.objects.filter(pk=transmission.pk)).get()], request.user)
    return render(
        request,
        "liaison/transmission.html",
        {
            "t": items[0],
            "items": items,
            "person": transmission.person,
            "revisions": transmission.revisions.all(),
            # Only someone who may write in the notebook may add a correction (a reader,
            # e.g. the person herself, would be refused with a 403).
            "correction_form": (
                CorrectionForm() if access.check(request.user, transmission.person, Category.LIAISON, "write") else None
            ),
        },
    )


@login_required
def transmission_edit(request: HttpRequest, transmission_id: int) -> HttpResponse:
    transmission = _load(request, transmission_id, "write")
    # A targeted transmission without free text is edited through its Données.
    field = "data" if transmission.kind == "targeted" and not transmission.text else "text"
    form = CorrectionForm(request.POST or None, initial={"text": getattr(transmission, field)})
    form.fields["text"].label = "Transmission"
    form.fields["text"].help_text = "Modifiable pendant le délai de saisie ; l'ancienne version est conservée."
    if request.method == "POST" and form.is_valid():
        try:
            services.transmission_edit(
                actor=request.user, transmission=transmission, **{field: form.cleaned_data["text"]}
            )
        except services.GracePeriodOver as error:
            messages.error(request, " ".join(error.messages))
            return redirect("liaison:transmission", transmission_id=transmission.pk)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Transmission modifiée ; la version précédente reste consultable.")
            return redirect("liaison:transmission", transmission_id=transmission.pk)
    return render(request, "liaison/edit.html", {"t": transmission, "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def transmission_withdraw(request: HttpRequest, transmission_id: int) -> HttpResponse:
    transmission = _load(request, transmission_id, "write")
    try:
        services.transmission_withdraw(actor=request.user, transmission=transmission)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("liaison:transmission", transmission_id=transmission.pk)
    messages.success(request, "Transmission retirée. Elle reste visible, marquée comme retirée.")
    return redirect("liaison:notebook", person_id=transmission.person_id)


@login_required
@require_POST
def transmission_correct(request: HttpRequest, transmission_id: int) -> HttpResponse:
    original = _load(request, transmission_id, "write")
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            correction = services.transmission_correct(
                actor=request.user, original=original, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Correction enregistrée ; la transmission d'origine est marquée corrigée.")
            return redirect("liaison:transmission", transmission_id=correction.pk)
    else:
        messages.error(request, "Écrivez la correction.")
    return redirect("liaison:transmission", transmission_id=original.pk)


@login_required
@require_POST
def acknowledge(request: HttpRequest, transmission_id: int) -> HttpResponse:
    transmission = _load(request, transmission_id)
    try:
        services.acknowledge(actor=request.user, transmission=transmission)
    except ValidationError as error:
        if request.htmx:
            return render(request, "liaison/snippets/receipt_done.html", {"error": " ".join(error.messages)})
        messages.error(request, " ".join(error.messages))
    else:
        if request.htmx:
            # The counter "n sur m" of the transmission's addressees is swapped out of band.
            (refreshed,) = _decorate([_for_pages(Transmission.objects.filter(pk=transmission.pk)).get()], request.user)
            return render(request, "liaison/snippets/receipt_done.html", {"now": timezone.now(), "t": refreshed})
        messages.success(request, "Accusé de réception envoyé.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("liaison:feed")
    return redirect(target)


@login_required
def attachment(request: HttpRequest, attachment_id: int, thumbnail: bool = False) -> FileResponse:
    """A file, only through the gate (there is no public URL for uploads)."""
    item = get_object_or_404(Attachment.objects.select_related("transmission__person"), pk=attachment_id)
    _load(request, item.transmission_id)
    stored = item.thumbnail if thumbnail and item.thumbnail else item.file
    content_type = "image/jpeg" if thumbnail and item.thumbnail else item.content_type
    return private_file_response(stored, content_type=content_type, filename=item.original_name)
