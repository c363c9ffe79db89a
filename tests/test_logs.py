"""Logs: personal data is masked in every log line, by default, whatever the host configured."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from arrears import Case, Engine, Money, SettableClock
from arrears import recorder as engine_module
from arrears.channels import RecordingChannel, WebhookChannel
from arrears.logs import PERSONAL_KEYS, get_logger, mask_personal_data, mask_text
from arrears.messages import TemplateSet, context_for

NAME = "王小明"
ENGLISH_NAME = "Jane Roe"
MOBILE = "+8613812345678"
SMS_MOBILE = "+8613900001111"
EMAIL = "xiaoming.wang@example.com"
RESIDENT_ID = "11010519491231002X"
US_PHONE = "(212) 555-0100"

#: What must never appear in a log line.
PERSONAL = (NAME, ENGLISH_NAME, "13812345678", "13900001111", EMAIL, RESIDENT_ID, "555-0100")


@pytest.fixture(autouse=True)
def _host_defaults() -> Iterator[None]:
    """Each test starts from structlog's defaults and leaves them so."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


class TestMaskText:
    @pytest.mark.parametrize(
        ("text", "masked"),
        [
            ("+8613812345678", "**********5678"),
            ("+86 138 1234 5678", "*************5678"),
            ("13812345678", "*******5678"),
            ("id 11010519491231002X", "id **************002X"),
            ("id 110105194912310021", "id **************0021"),
            ("old id 110105491231002", "old id ***********1002"),
            ("(212) 555-0100", "**********0100"),
            ("212-555-0100", "********0100"),
            ("ssn 123-45-6789", "ssn *******6789"),
            (EMAIL, "*********************.com"),
        ],
    )
    def test_masks(self, text: str, masked: str) -> None:
        """Phone numbers, identity numbers and e-mail addresses keep their last four characters."""
        assert mask_text(text) == masked

    @pytest.mark.parametrize(
        "text",
        [
            "2026-10-01T01:00:00+00:00",
            "CNY 1070.00",
            "C-1:sms:2026-10-01",
            "3f2a9b8c0d13812345678ab1",  # a digest: digits inside an alphanumeric run
            "US-7IN7",
            "overdue.sms.zh-CN",
            "limit 7 in 7 days",
        ],
    )
    def test_leaves_the_rest(self, text: str) -> None:
        """Times, amounts, keys, digests and rule ids are not personal data."""
        assert mask_text(text) == text


class TestProcessor:
    def test_personal_keys_are_replaced(self) -> None:
        """Values under personal keys (names, addresses, message text) go whole."""
        event = mask_personal_data(
            None,
            "info",
            {
                "event": "x",
                "name": NAME,
                "address": "Musterstraße 1",
                "text": "Hi",
                "case_id": "C-1",
            },
        )
        assert event == {
            "event": "x",
            "name": "***",
            "address": "***",
            "text": "***",
            "case_id": "C-1",
        }
        assert {"name", "debtor_name", "email", "phone", "id_number"} <= PERSONAL_KEYS

    def test_nested_values(self) -> None:
        """Dicts, lists and tuples inside the event are masked too; other values are kept."""
        event = mask_personal_data(
            None,
            "info",
            {
                "event": f"call {MOBILE}",
                "contacts": [{"name": NAME, "note": EMAIL}],
                "pair": (RESIDENT_ID, 7),
                "amount": Decimal("10.00"),
            },
        )
        assert event["event"] == "call **********5678"
        assert event["contacts"] == [{"name": "***", "note": "*********************.com"}]
        assert event["pair"] == ("**************002X", 7)
        assert event["amount"] == Decimal("10.00")


class TestLogger:
    def test_masks_under_capture_logs(self) -> None:
        """`capture_logs` sees the masked event: masking runs before the host's processors."""
        with capture_logs() as captured:
            get_logger().info("contact", phone=MOBILE, note=f"reached on {SMS_MOBILE}")
        assert captured == [
            {
                "event": "contact",
                "phone": "***",
                "note": "reached on **********1111",
                "log_level": "info",
            }
        ]

    def test_host_configuration_is_honoured(self) -> None:
        """The host's processors and renderer run after masking, on its own output."""
        out = io.StringIO()
        structlog.configure(
            processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
            logger_factory=structlog.PrintLoggerFactory(out),
        )
        log = get_logger("arrears", component="test")
        log.warning("sent", to=EMAIL, detail=f"id {RESIDENT_ID}")
        line = json.loads(out.getvalue())
        assert line == {
            "event": "sent",
            "component": "test",
            "to": "***",
            "detail": "id **************002X",
            "level": "warning",
        }

    def test_host_filtering_is_honoured(self) -> None:
        """A host filtering to warnings gets no info lines from arrears."""
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        with capture_logs() as captured:
            get_logger().info("quiet")
            get_logger().warning("loud")
        assert [entry["event"] for entry in captured] == ["loud"]

    def test_bound_values_are_masked(self) -> None:
        """Values bound to a logger are part of every event, masked with it."""
        with capture_logs() as captured:
            get_logger().bind(debtor_name=NAME).info("x", call=US_PHONE)
        assert captured[0]["debtor_name"] == "***"
        assert captured[0]["call"] == "**********0100"

    def test_the_engine_logs_through_it(self) -> None:
        """The engine's logger masks (it is on by default)."""
        with capture_logs() as captured:
            engine_module._log.info("probe", detail=f"debtor at {MOBILE}")
        assert captured[0]["detail"] == "debtor at **********5678"


def _case() -> Case:
    return Case.model_validate(
        {
            "id": "C-1",
            "debtor": {
                "id": RESIDENT_ID,
                "name": NAME,
                "timezone": "Asia/Shanghai",
                "locale": "zh-CN",
            },
            "contacts": [
                {"id": "p1", "channel": "call", "address": MOBILE},
                {"id": "p2", "channel": "sms", "address": SMS_MOBILE},
                {"id": "e1", "channel": "email", "address": EMAIL},
                {"id": "t1", "channel": "sms", "address": "+8613700002222", "party": "third_party"},
            ],
            "balance": {"currency": "CNY", "principal": "1000.00", "penalty": "70.00"},
            "due_date": "2026-09-01",
        }
    )


TEMPLATES = {
    "overdue.sms.zh-CN": "---\nkind: reminder\n---\n{{ sms_signature }}{{ debtor_name }}您好,"
    "您有{{ amount_owed }}逾期{{ days_past_due }}天,请于{{ deadline }}前还款,逾期收取每日"
    "{{ late_fee_rate | percent }}的逾期罚息。电话{{ lender_hotline }}。回T退订",
    "ask.sms.zh-CN": "---\nkind: location_request\n---\n{{ sms_signature }}您好,请转告"
    "{{ debtor_name }}致电{{ lender_hotline }}。拒收请回复R",
}


class TestNoPersonalDataInAnyLogLine:
    def test_representative_workflow(
        self, engine: Engine, clock: SettableClock, make_case: Callable[..., Case]
    ) -> None:
        """A case full of personal data goes through the engine, messages and channels:
        no name, phone number, e-mail address or ID number appears in any log line."""
        posted: list[bytes] = []

        def gateway(request: httpx.Request) -> httpx.Response:
            posted.append(request.content)
            if len(posted) == 1:
                return httpx.Response(503)
            return httpx.Response(202, json={"id": "gw-1"})

        templates = TemplateSet.from_sources(TEMPLATES, packs=["CN"])
        lender = {
            "name": "安心消费金融",
            "hotline": "400-820-8820",
            "signature": "安心消费金融",
            "late_fee_rate": "0.0005",
        }
        fake = RecordingChannel()
        with capture_logs() as captured:
            case_id = engine.open_case(_case()).id
            engine.fire(case_id, "notify")
            engine.record_interaction(case_id, "call", "no_answer", contact="p1")
            engine.record_interaction(case_id, "call", "busy", contact="p1")
            engine.record_interaction(case_id, "sms", "failed", contact="p2")
            engine.record_opt_out(case_id, "email", contact="e1")
            engine.judge_contact(case_id, {"channel": "email", "contact": "e1"})
            engine.add_hold(case_id, "dispute", f"called from {MOBILE} about {EMAIL}")
            context = context_for(
                engine.case(case_id), clock.now(), lender=lender, deadline=date(2026, 10, 8)
            )
            reminder = templates.render("overdue", "sms", "zh-CN", context)
            ask = templates.render("ask", "sms", "zh-CN", context, party="third_party")
            fake.send(reminder.outbound(key="C-1:1", case_id=case_id, address=SMS_MOBILE))
            with WebhookChannel(
                "https://gw.example/send",
                transport=httpx.MockTransport(gateway),
                sleep=lambda seconds: None,
            ) as hook:
                hook.send(ask.outbound(key="C-1:2", case_id=case_id, address="+8613700002222"))
            engine.record_payment(case_id, Money("1070.00", "CNY"))
            get_logger().info("host_note", debtor_name=NAME, note=f"{MOBILE} {EMAIL} {RESIDENT_ID}")
        assert NAME in reminder.text  # the message itself does carry the name
        assert len(posted) == 2
        assert len(captured) >= 10
        lines = "\n".join(repr(entry) for entry in captured)
        for secret in (*PERSONAL, "13700002222"):
            assert secret not in lines, secret
