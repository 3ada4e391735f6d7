"""The admin's webhook pages: endpoints, their deliveries with each attempt's log, and dead
letters; with four actions: retry a delivery, replay dead letters (one, or those selected on the
list), disable or enable an endpoint. Like the tenant pages (evaapi/auth/admin_views.py) there are
no ORM models behind them: they read through the webhooks selectors (and the repository where no
selector exists yet) and change things only through the services, which audit every change with
the actor `admin:<user pk>`.

The same tenant wall holds: a superuser sees every tenant (choosing one on the list pages, as the
store keeps each tenant's endpoints and dead letters in their own partition); any other staff user
sees only the tenant of their TenantMembership, and another tenant's pages and actions are a 404,
exactly like a missing one's."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from evaapi.auth import selectors as auth_selectors
from evaapi.auth.admin_views import tenant_visible  # one tenant wall for every admin page
from evaapi.auth.domain import Tenant
from evaapi.events.catalogue import EVENT_TYPES
from evaapi.exceptions import InvalidInput, ResourceConflict, ResourceNotFound
from webhooks import selectors, services
from webhooks.domain import DeliveryStatus

PAGE_SIZE = 50
# A delivery's attempts are found among one page of its endpoint's logs of its event type.
LOG_PAGE_SIZE = 100
# The tenants a superuser chooses from on the list pages; any other one by its id in the address.
TENANT_CHOICES = 200
ACTIVE_FILTERS = {"active": True, "inactive": False}


def _actor(request) -> str:
    return f"admin:{request.user.pk}"


def _continuation(request) -> str | None:
    return request.GET.get("continuation") or None


def _choice(request, name: str, allowed) -> str:
    """A filter's value from the query string: empty for none; a value no filter offers is a 400."""
    value = request.GET.get(name, "")
    if value and value not in allowed:
        raise InvalidInput(f"Unknown {name.replace('_', ' ')}: {value!r}.", details={name: ["Unknown."]})
    return value


def _chosen_tenant(request) -> Tenant | None:
    """The list pages' tenant: the one named (?tenant=, behind the wall), else a member's own; None
    when there is none to show (a superuser who has not chosen, a staff user of no tenant)."""
    tenant_id = request.GET.get("tenant")
    if tenant_id:
        return tenant_visible(request, tenant_id)
    if request.user.is_superuser:
        return None
    membership = auth_selectors.membership_of_user(user_id=request.user.pk)
    if membership is None:
        return None
    try:
        return auth_selectors.tenant_get(tenant_id=membership.tenant_id)
    except ResourceNotFound:
        return None  # a membership of a tenant that is gone shows nothing


def _when_sent(delivery) -> str:
    if delivery.next_attempt_at is None:
        return "it is sent once its endpoint is enabled again"
    return "it is sent again now"


def _tenant_choices(request, chosen: Tenant | None) -> list[Tenant]:
    if not request.user.is_superuser:
        return [chosen] if chosen is not None else []
    tenants, _ = auth_selectors.tenant_list(limit=TENANT_CHOICES, continuation=None)
    if chosen is not None and chosen.id not in {tenant.id for tenant in tenants}:
        tenants.insert(0, chosen)
    return tenants


class WebhookAdminViews:
    """The pages, bound to the admin site that serves them (for its login check and context)."""

    def __init__(self, site):
        self.site = site

    def urls(self) -> list:
        view = self.site.admin_view  # staff only, CSRF-protected, never cached
        endpoint = "webhooks/tenants/<str:tenant_id>/endpoints/<str:webhook_id>/"
        delivery = endpoint + "deliveries/<str:delivery_id>/"
        letter = "webhooks/tenants/<str:tenant_id>/dead-letters/<str:letter_id>/"
        return [
            path("webhooks/endpoints/", view(require_safe(self.endpoint_list)), name="eva_webhook_endpoint_list"),
            path(endpoint, view(require_safe(self.endpoint_detail)), name="eva_webhook_endpoint_detail"),
            path(endpoint + "active/", view(require_POST(self.endpoint_active)), name="eva_webhook_endpoint_active"),
            path(endpoint + "deliveries/", view(require_safe(self.delivery_list)), name="eva_webhook_delivery_list"),
            path(delivery, view(require_safe(self.delivery_detail)), name="eva_webhook_delivery_detail"),
            path(delivery + "retry/", view(require_POST(self.delivery_retry)), name="eva_webhook_delivery_retry"),
            path("webhooks/dead-letters/", view(require_safe(self.dead_letter_list)),
                 name="eva_webhook_dead_letter_list"),
            path("webhooks/tenants/<str:tenant_id>/dead-letters/replay/",
                 view(require_POST(self.dead_letters_replay)), name="eva_webhook_dead_letters_replay"),
            path(letter, view(require_safe(self.dead_letter_detail)), name="eva_webhook_dead_letter_detail"),
            path(letter + "replay/", view(require_POST(self.dead_letter_replay)),
                 name="eva_webhook_dead_letter_replay"),
        ]

    def _url(self, name: str, query: dict | None = None, **kwargs) -> str:
        url = reverse(f"admin:{name}", kwargs=kwargs, current_app=self.site.name)
        query = {key: value for key, value in (query or {}).items() if value}
        return f"{url}?{urlencode(query)}" if query else url

    def app_list_entry(self) -> dict:
        """The index's and the sidebar's links to these pages, shaped like a registered app."""
        endpoints, letters = self._url("eva_webhook_endpoint_list"), self._url("eva_webhook_dead_letter_list")
        return {
            "name": "Webhooks",
            "app_label": "eva_webhooks",
            "app_url": endpoints,
            "models": [
                {"name": "Endpoints and deliveries", "object_name": "WebhookEndpoint", "admin_url": endpoints,
                 "view_only": True},
                {"name": "Dead letters", "object_name": "DeadLetter", "admin_url": letters, "view_only": True},
            ],
        }

    def _render(self, request, template: str, title: str, **context) -> TemplateResponse:
        request.current_app = self.site.name
        return TemplateResponse(request, f"webhooks/admin/{template}",
                                {**self.site.each_context(request), "title": title, **context})

    def _pages(self, request, continuation: str | None, filters: dict) -> dict:
        """The paging links, keeping the page's filters: store lists page by continuation token."""
        return {
            "first_page_url": (request.path + (f"?{urlencode(filters)}" if filters else "")
                               if _continuation(request) is not None else None),
            "next_page_url": (request.path + "?" + urlencode({**filters, "continuation": continuation})
                              if continuation else None),
        }

    # --- endpoints -----------------------------------------------------------------------------
    def endpoint_list(self, request):
        tenant = _chosen_tenant(request)
        active = _choice(request, "active", ACTIVE_FILTERS)
        endpoints, continuation = [], None
        if tenant is not None:
            endpoints, continuation = selectors.endpoint_list(tenant=tenant, limit=PAGE_SIZE,
                                                              continuation=_continuation(request))
            if active:
                # endpoint_list takes no `active` filter (the container's index on it serves only
                # the fan-out's query), so it applies to this store page: a page may show fewer.
                endpoints = [e for e in endpoints if e.active == ACTIVE_FILTERS[active]]
        filters = {"tenant": request.GET.get("tenant", ""), "active": active}
        return self._render(
            request, "endpoint_list.html", "Webhook endpoints", tenant=tenant, endpoints=endpoints,
            tenants=_tenant_choices(request, tenant), active=active, filtered_in_page=bool(active),
            **self._pages(request, continuation, {k: v for k, v in filters.items() if v}),
        )

    def endpoint_detail(self, request, tenant_id: str, webhook_id: str):
        tenant = tenant_visible(request, tenant_id)
        endpoint = selectors.endpoint_get(tenant=tenant, webhook_id=webhook_id)
        return self._render(request, "endpoint_detail.html", f"Webhook endpoint {endpoint.url}", tenant=tenant,
                            endpoint=endpoint)

    def endpoint_active(self, request, tenant_id: str, webhook_id: str):
        tenant = tenant_visible(request, tenant_id)
        active = request.POST.get("active", "")
        if active not in ACTIVE_FILTERS:
            raise InvalidInput("active must be 'active' or 'inactive'.", details={"active": ["Unknown."]})
        endpoint = services.endpoint_update(tenant=tenant, actor=_actor(request), webhook_id=webhook_id,
                                   changes={"active": ACTIVE_FILTERS[active]})
        messages.success(request, f"Endpoint {endpoint.url} is {'enabled' if endpoint.active else 'disabled'}.")
        return redirect(self._url("eva_webhook_endpoint_detail", tenant_id=tenant.id, webhook_id=endpoint.id))

    # --- deliveries ----------------------------------------------------------------------------
    def delivery_list(self, request, tenant_id: str, webhook_id: str):
        tenant = tenant_visible(request, tenant_id)
        endpoint = selectors.endpoint_get(tenant=tenant, webhook_id=webhook_id)
        status = _choice(request, "status", {str(s) for s in DeliveryStatus})
        event_type = _choice(request, "event_type", EVENT_TYPES)
        deliveries, continuation = selectors.delivery_list(tenant=tenant, webhook_id=webhook_id, status=status or None,
                                                           limit=PAGE_SIZE, continuation=_continuation(request))
        if event_type:
            # The deliveries container has no event-type index, so this filter applies to the
            # store page just read (filtered by status in the store): a page may show fewer.
            deliveries = [d for d in deliveries if d.event_type == event_type]
        filters = {k: v for k, v in {"status": status, "event_type": event_type}.items() if v}
        return self._render(
            request, "delivery_list.html", f"Deliveries to {endpoint.url}", tenant=tenant, endpoint=endpoint,
            deliveries=deliveries, statuses=[str(s) for s in DeliveryStatus], status=status,
            event_types=sorted(EVENT_TYPES), event_type=event_type, filtered_in_page=bool(event_type),
            **self._pages(request, continuation, filters),
        )

    def delivery_detail(self, request, tenant_id: str, webhook_id: str, delivery_id: str):
        tenant = tenant_visible(request, tenant_id)
        endpoint = selectors.endpoint_get(tenant=tenant, webhook_id=webhook_id)
        delivery = selectors.delivery_get(tenant=tenant, webhook_id=webhook_id, delivery_id=delivery_id)
        logs, continuation = selectors.log_list(tenant=tenant, webhook_id=webhook_id, delivery_id=delivery.id,
                                                limit=LOG_PAGE_SIZE, continuation=_continuation(request))
        return self._render(
            request, "delivery_detail.html", f"Delivery {delivery.id}", tenant=tenant, endpoint=endpoint,
            delivery=delivery, body=json.dumps(json.loads(delivery.body), indent=2, ensure_ascii=False),
            logs=logs,
            can_retry=delivery.status != DeliveryStatus.SUCCEEDED, **self._pages(request, continuation, {}),
        )

    def delivery_retry(self, request, tenant_id: str, webhook_id: str, delivery_id: str):
        tenant = tenant_visible(request, tenant_id)
        try:
            delivery = services.delivery_retry(tenant=tenant, actor=_actor(request), webhook_id=webhook_id,
                                      delivery_id=delivery_id)
        except ResourceConflict as exc:
            messages.error(request, f"Not retried: {exc.message}")
        else:
            messages.success(request, f"Delivery {delivery.id} is {delivery.status}: {_when_sent(delivery)}.")
        return redirect(self._url("eva_webhook_delivery_detail", tenant_id=tenant.id, webhook_id=webhook_id,
                                  delivery_id=delivery_id))

    # --- dead letters --------------------------------------------------------------------------
    def dead_letter_list(self, request):
        tenant = _chosen_tenant(request)
        event_type = _choice(request, "event_type", EVENT_TYPES)
        webhook_id = request.GET.get("webhook", "")
        letters, continuation = [], None
        if tenant is not None:
            letters, continuation = selectors.dead_letter_list(tenant=tenant, webhook_id=webhook_id or None,
                                                               limit=PAGE_SIZE, continuation=_continuation(request))
            if event_type:
                # The dead-letter container has no event-type index, so this filter applies to
                # the store page just read: a page may show fewer.
                letters = [letter for letter in letters if letter.event_type == event_type]
        filters = {"tenant": request.GET.get("tenant", ""), "event_type": event_type, "webhook": webhook_id}
        return self._render(
            request, "dead_letter_list.html", "Webhook dead letters", tenant=tenant, letters=letters,
            tenants=_tenant_choices(request, tenant), event_types=sorted(EVENT_TYPES), event_type=event_type,
            webhook_id=webhook_id, filtered_in_page=bool(event_type),
            **self._pages(request, continuation, {k: v for k, v in filters.items() if v}),
        )

    def dead_letter_detail(self, request, tenant_id: str, letter_id: str):
        tenant = tenant_visible(request, tenant_id)
        letter = selectors.dead_letter_get(tenant=tenant, letter_id=letter_id)
        return self._render(request, "dead_letter_detail.html", f"Dead letter {letter.id}", tenant=tenant,
                            letter=letter)

    def dead_letter_replay(self, request, tenant_id: str, letter_id: str):
        tenant = tenant_visible(request, tenant_id)
        try:
            delivery = services.dead_letter_replay(tenant=tenant, actor=_actor(request), letter_id=letter_id)
        except ResourceConflict as exc:
            messages.error(request, f"Not replayed: {exc.message}")
        else:
            messages.success(request, f"Dead letter replayed: delivery {delivery.id} is {delivery.status}: "
                                      f"{_when_sent(delivery)}.")
        return redirect(self._url("eva_webhook_dead_letter_detail", tenant_id=tenant.id, letter_id=letter_id))

    def dead_letters_replay(self, request, tenant_id: str):
        """Replays the dead letters selected on the list. All of them are read first, so naming
        one that is not this tenant's is a 404 that replays none."""
        tenant = tenant_visible(request, tenant_id)
        letter_ids = list(dict.fromkeys(request.POST.getlist("letter")))
        letters = [selectors.dead_letter_get(tenant=tenant, letter_id=letter_id) for letter_id in letter_ids]
        replayed, refused = 0, []
        for letter in letters:
            try:
                services.dead_letter_replay(tenant=tenant, actor=_actor(request), letter_id=letter.id)
            except (ResourceConflict, ResourceNotFound) as exc:  # replayed meanwhile; its delivery gone
                refused.append(f"{letter.id}: {exc.message}")
            else:
                replayed += 1
        if not letters:
            messages.warning(request, "Select the dead letters to replay.")
        elif replayed:
            messages.success(request, f"Replayed {replayed} dead letter{'s' if replayed != 1 else ''}.")
        if refused:
            messages.error(request, "Not replayed: " + "; ".join(refused))
        return redirect(self._url("eva_webhook_dead_letter_list", {"tenant": tenant.id}))
