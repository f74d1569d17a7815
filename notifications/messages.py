"""What tourists receive, in their language (English, Thai, Russian, Chinese; English fallback).

Each topic has a title and a body per language, formatted with named parameters. The
language is the device's, else the card holder's, reduced to its primary subtag
(``zh-Hans-CN`` → ``zh``); anything unknown falls back to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

DEFAULT_LANGUAGE = "en"
# Thailand keeps UTC+7 all year (no daylight saving): the time tourists read on their phones.
THAILAND = timezone(timedelta(hours=7), "ICT")
EMERGENCY_NUMBERS = "191 / 1155"

# topic -> language -> (title, body)
CATALOG: dict[str, dict[str, tuple[str, str]]] = {
    "sos_received": {
        "en": ("SOS received",
               "The 191 emergency center has received your SOS. Stay where you are if it is safe and keep "
               "your phone on. Emergency: 191, Tourist Police: 1155."),
        "th": ("ได้รับสัญญาณ SOS แล้ว",
               "ศูนย์รับแจ้งเหตุ 191 ได้รับสัญญาณ SOS ของคุณแล้ว หากปลอดภัยโปรดอยู่ที่เดิมและเปิดโทรศัพท์ไว้ "
               "เหตุฉุกเฉิน: 191 ตำรวจท่องเที่ยว: 1155"),
        "ru": ("Сигнал SOS получен",
               "Центр экстренной помощи 191 получил ваш сигнал SOS. Оставайтесь на месте, если это безопасно, "
               "и не выключайте телефон. Экстренная служба: 191, туристическая полиция: 1155."),
        "zh": ("已收到SOS求救",
               "191紧急救援中心已收到您的SOS求救。如安全请留在原地，并保持手机开机。"
               "紧急电话：191，旅游警察：1155。"),
    },
    "sos_acknowledged": {
        "en": ("Your SOS is being handled",
               "A 191 dispatcher is handling your SOS and is arranging help. Keep your phone on."),
        "th": ("กำลังดำเนินการตาม SOS ของคุณ",
               "เจ้าหน้าที่ศูนย์ 191 กำลังดำเนินการตาม SOS ของคุณและกำลังจัดส่งความช่วยเหลือ โปรดเปิดโทรศัพท์ไว้"),
        "ru": ("Ваш SOS обрабатывается",
               "Диспетчер службы 191 занимается вашим сигналом SOS и организует помощь. Не выключайте телефон."),
        "zh": ("您的SOS正在处理中",
               "191调度员正在处理您的SOS求救并安排救援。请保持手机开机。"),
    },
    "sos_dispatched": {
        "en": ("Help is on the way",
               "{unit} has been sent to your position. Stay where you are if it is safe."),
        "th": ("ความช่วยเหลือกำลังไป",
               "{unit} กำลังเดินทางไปยังตำแหน่งของคุณ หากปลอดภัยโปรดอยู่ที่เดิม"),
        "ru": ("Помощь в пути",
               "К вам направлен(а) {unit}. Оставайтесь на месте, если это безопасно."),
        "zh": ("救援正在赶来",
               "{unit}已被派往您的位置。如安全请留在原地。"),
    },
    "sos_resolved": {
        "en": ("Your SOS is closed",
               "The 191 emergency center has closed your SOS. If you still need help, press SOS again or "
               "call 191."),
        "th": ("ปิดเรื่อง SOS ของคุณแล้ว",
               "ศูนย์รับแจ้งเหตุ 191 ได้ปิดเรื่อง SOS ของคุณแล้ว หากยังต้องการความช่วยเหลือ โปรดกด SOS อีกครั้งหรือโทร 191"),
        "ru": ("Ваш SOS закрыт",
               "Центр экстренной помощи 191 закрыл ваш сигнал SOS. Если помощь всё ещё нужна, снова нажмите SOS "
               "или позвоните 191."),
        "zh": ("您的SOS已结案",
               "191紧急救援中心已结束您的SOS求救。如仍需帮助，请再次按SOS或拨打191。"),
    },
    "danger_zone": {
        "en": ("Danger: {zone}",
               "You are in {zone}. {description} What to do: {advice}"),
        "th": ("อันตราย: {zone}",
               "คุณอยู่ในพื้นที่ {zone} {description} สิ่งที่ควรทำ: {advice}"),
        "ru": ("Опасность: {zone}",
               "Вы находитесь в зоне «{zone}». {description} Что делать: {advice}"),
        "zh": ("危险：{zone}",
               "您正处于{zone}。{description} 应对措施：{advice}"),
    },
    "left_area": {
        "en": ("You have left the Phuket service area",
               "Outside Phuket province the 191 center cannot follow your position. In an emergency call 191 "
               "or the Tourist Police on 1155."),
        "th": ("คุณออกนอกพื้นที่ให้บริการของภูเก็ตแล้ว",
               "นอกเขตจังหวัดภูเก็ต ศูนย์ 191 ไม่สามารถติดตามตำแหน่งของคุณได้ เหตุฉุกเฉินโทร 191 "
               "หรือตำรวจท่องเที่ยว 1155"),
        "ru": ("Вы покинули зону обслуживания Пхукета",
               "За пределами провинции Пхукет центр 191 не может отслеживать ваше местоположение. В экстренной "
               "ситуации звоните 191 или в туристическую полицию 1155."),
        "zh": ("您已离开普吉服务区",
               "在普吉府以外，191中心无法跟踪您的位置。紧急情况请拨打191或旅游警察1155。"),
    },
    "overdue": {
        "en": ("Are you OK?",
               "We have not received your position for a while. Please open the app so that it can report "
               "in. If you need help, press SOS or call 191."),
        "th": ("คุณปลอดภัยดีไหม?",
               "เราไม่ได้รับตำแหน่งของคุณมาระยะหนึ่งแล้ว โปรดเปิดแอปเพื่อส่งตำแหน่ง หากต้องการความช่วยเหลือ "
               "โปรดกด SOS หรือโทร 191"),
        "ru": ("С вами всё в порядке?",
               "Мы давно не получали ваше местоположение. Откройте приложение, чтобы оно отправило данные. "
               "Если нужна помощь, нажмите SOS или позвоните 191."),
        "zh": ("您还好吗？",
               "我们已有一段时间未收到您的位置。请打开应用以便上报位置。如需帮助，请按SOS或拨打191。"),
    },
    "card_expiring": {
        "en": ("Your Smart Tourist Card expires soon",
               "Your card {card_id} expires on {expires_on}. Location sharing and safety alerts stop then. "
               "Staying longer? Ask immigration for a new card."),
        "th": ("บัตรนักท่องเที่ยวอัจฉริยะของคุณใกล้หมดอายุ",
               "บัตร {card_id} ของคุณจะหมดอายุวันที่ {expires_on} หลังจากนั้นการแชร์ตำแหน่งและการแจ้งเตือน"
               "ความปลอดภัยจะหยุดลง หากจะอยู่ต่อ โปรดติดต่อสำนักงานตรวจคนเข้าเมืองเพื่อขอบัตรใหม่"),
        "ru": ("Срок действия вашей карты туриста скоро истекает",
               "Ваша карта {card_id} действительна до {expires_on}. После этого передача местоположения и "
               "оповещения о безопасности прекратятся. Остаётесь дольше? Обратитесь в иммиграционную службу "
               "за новой картой."),
        "zh": ("您的智能旅游卡即将到期",
               "您的卡 {card_id} 将于 {expires_on} 到期。届时位置共享和安全提醒将停止。"
               "如需延长停留，请向移民局申请新卡。"),
    },
}

# Fillers when a zone carries no description or advice of its own.
ZONE_DEFAULTS: dict[str, tuple[str, str]] = {
    "en": ("This area is dangerous.", "Leave the area and follow the lifeguards' and officials' instructions."),
    "th": ("พื้นที่นี้เป็นอันตราย", "ออกจากพื้นที่และปฏิบัติตามคำแนะนำของไลฟ์การ์ดและเจ้าหน้าที่"),
    "ru": ("Эта зона опасна.", "Покиньте зону и следуйте указаниям спасателей и официальных лиц."),
    "zh": ("该区域存在危险。", "请离开该区域，并听从救生员和工作人员的指示。"),
}

# What a dispatched unit is called when the dispatcher left it blank.
DEFAULT_UNIT = {"en": "A rescue team", "th": "ทีมกู้ภัย", "ru": "спасательная группа", "zh": "救援队"}

SUPPORTED_LANGUAGES = tuple(CATALOG["sos_received"])


@dataclass(frozen=True)
class Rendered:
    """A message ready for the outbox, in one language."""

    language: str
    title: str
    body: str


def primary_language(tag: str | None) -> str:
    """The primary subtag of a BCP 47 tag, lower-case (``"zh-Hans-CN"`` → ``"zh"``); '' for none."""
    if not tag:
        return ""
    return tag.replace("_", "-").split("-", 1)[0].strip().lower()


def choose_language(*tags: str | None, available: tuple[str, ...] | list[str] = SUPPORTED_LANGUAGES) -> str:
    """The first of ``tags`` (device, then card holder, …) that is ``available``, else English."""
    for tag in tags:
        lang = primary_language(tag)
        if lang and lang in available:
            return lang
    return DEFAULT_LANGUAGE


class _Params(dict):
    """Format parameters that leave an unknown placeholder visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(topic: str, language: str, **params: Any) -> Rendered:
    """The ``topic`` message in ``language`` (English when not translated), formatted with ``params``."""
    texts = CATALOG[topic]
    lang = language if language in texts else DEFAULT_LANGUAGE
    title, body = texts[lang]
    values = _Params({k: "" if v is None else str(v) for k, v in params.items()})
    title = title.format_map(values)
    body = " ".join(body.format_map(values).split())  # tidy spaces left by empty parameters
    return Rendered(language=lang, title=title[:300], body=body)


def local_date(moment: datetime) -> str:
    """The calendar date of ``moment`` in Thailand, ISO format (``2026-12-24``)."""
    return moment.astimezone(THAILAND).date().isoformat()
