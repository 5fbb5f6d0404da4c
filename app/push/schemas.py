"""Push requests and answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class VapidKey(BaseModel):
    """The server's VAPID public key: the ``applicationServerKey`` a browser subscribes with
    (base64url of the uncompressed P-256 point, 65 bytes)."""

    public_key: str


class SubscriptionKeys(BaseModel):
    """The browser's keys, as ``PushSubscription.toJSON()`` gives them (base64url)."""

    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(min_length=80, max_length=100)
    auth: str = Field(min_length=20, max_length=30)


class SubscribeRequest(BaseModel):
    """A browser's subscription and the kinds to push to it (omitted: the kinds the person
    gets by e-mail, ``/api/v1/notifications/preferences``)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(min_length=10, max_length=2000)
    keys: SubscriptionKeys
    expirationTime: int | None = Field(  # the browser's own name
        default=None, description="as the browser gives it; unused"
    )
    kinds: list[str] | None = Field(
        default=None, max_length=50, description="notification kinds (see notifications)"
    )


class UnsubscribeRequest(BaseModel):
    """Which subscription to drop."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(min_length=10, max_length=2000)


class SubscriptionOut(BaseModel):
    """One of your push subscriptions."""

    endpoint: str
    kinds: list[str]
    created_at: str


class SubscriptionList(BaseModel):
    """Your push subscriptions."""

    subscriptions: list[SubscriptionOut]


class PushMessage(BaseModel):
    """What a push carries (JSON, encrypted for the browser): the notification, for the
    service worker to show."""

    id: str
    kind: str
    title: str
    body: str
    url: str
