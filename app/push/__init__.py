"""Web Push: browsers subscribe (a service worker, VAPID) to the notification kinds a member
chose; their notifications are pushed, encrypted for that browser (RFC 8291)."""
