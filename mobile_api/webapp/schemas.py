"""Schemas of the companion web app's own API (set-up links)."""

from __future__ import annotations

from marshmallow import Schema, fields


class TraccarClientSetupSchema(Schema):
    """Traccar Client: its configuration link, a QR code of it, and the values to type by hand."""

    link = fields.String(required=True, metadata={"description": "org.traccar.client://config?url=…&id=…"})
    qr_png = fields.String(required=True, metadata={"description": "data: URI of a PNG QR code of `link`"})
    server_url = fields.String(required=True, metadata={"description": "Traccar Client's server URL"})
    device_identifier = fields.String(required=True, metadata={"description": "the enrollment's osmand_id"})
    interval_s = fields.Integer(required=True)


class OwnTracksSetupSchema(Schema):
    """OwnTracks: its remote-configuration link, a QR code of it, and the configuration itself."""

    link = fields.String(required=True, metadata={"description": "owntracks:///config?inline=<base64 JSON>"})
    qr_png = fields.String(required=True, metadata={"description": "data: URI of a PNG QR code of `link`"})
    configuration = fields.Dict(required=True, metadata={"description": "the `_type: configuration` message"})
    url = fields.String(required=True)
    username = fields.String(required=True)


class SetupLinksSchema(Schema):
    """One-tap set-up of background tracking apps for the calling device's card."""

    card_id = fields.String(required=True)
    server_url = fields.String(required=True)
    traccar_client = fields.Nested(TraccarClientSetupSchema, required=True)
    owntracks = fields.Nested(OwnTracksSetupSchema, required=True)


class CompanionConfigSchema(Schema):
    """What the companion app needs to know about its card beyond ``/me``."""

    card_id = fields.String(required=True)
    language = fields.String(required=True, metadata={"description": "the holder's language from the card (BCP 47)"})
    ping_interval_s = fields.Integer(required=True)
    server_url = fields.String(required=True)
