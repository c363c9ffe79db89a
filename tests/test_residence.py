"""A debtor's residence read from their postal address (`arrears.residence.residence_of`).

The code of the state, nation or province where the address tells it, else
the country, else nothing: never a guess.  The address is an input only: the
case keeps the code, and no error or journal entry repeats the address.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Debtor, Engine, InvalidInput, SettableClock
from arrears.compliance import Compliance
from arrears.importer import import_portfolio
from arrears.limits import ADDRESS
from arrears.residence import _PROVINCES, residence_of
from arrears.scenarios import run_scenario

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 10, 7, 21, 30, tzinfo=NY)  # after Massachusetts' 21:00, before Reg F's
BY_STATE = {"US-MA": ["US-MA"], "US": ["US-RegF"]}
TEXT = "Harbor Card: your account is past due. Reply STOP to opt out."
SMS = {"channel": "sms", "contact": "sms", "text": TEXT}

#: Real addresses (public buildings) and what they say about where the person is.
ADDRESSES = [
    # United States: a USPS abbreviation before a ZIP code, or a state's full name
    ("1 Federal St, Boston, MA 02110", "US-MA"),
    ("1 Ashburton Pl\nBoston MA 02108-1518", "US-MA"),
    ("1 Ashburton Place, Boston, Massachusetts 02108", "US-MA"),
    ("350 Fifth Avenue, New York, NY 10118, USA", "US-NY"),
    ("350 Fifth Avenue, New York, NY 10118 United States", "US-NY"),
    ("State Capitol, 107 N Main St, Concord, New Hampshire 03301", "US-NH"),
    ("1900 Kanawha Blvd E, Charleston, West Virginia 25305", "US-WV"),
    ("416 Sid Snyder Ave SW, Olympia, WA 98504", "US-WA"),
    ("400 Broad St, Seattle, Washington 98109", "US-WA"),
    ("1600 Pennsylvania Avenue NW, Washington, DC 20500", "US-DC"),
    ("1600 Pennsylvania Avenue NW, Washington, D.C. 20500", "US-DC"),
    ("1600 Pennsylvania Avenue NW, Washington 20500", "US-DC"),
    ("Calle Fortaleza 63, San Juan, PR 00901", "US-PR"),
    ("PSC 802 Box 74, APO AE 09499", "US"),
    ("Indiana, PA 15701", "US-PA"),  # a town named like a state: the state is the last
    ("Kansas City, MO 64106", "US-MO"),
    ("1 Main St, Springfield", None),  # no state: which Springfield is not said
    ("1 Main St, Springfield, USA", "US"),
    ("1 Main St, New York", None),  # there is a New York in Lincolnshire
    ("Seattle, Washington, USA", "US"),  # the state, or Washington, D.C.
    ("Berlin 10115", None),
    # United Kingdom: the postcode's area
    ("10 Downing Street, London SW1A 2AA", "GB-ENG"),
    ("10 Downing Street, London SW1A 2AA, United Kingdom", "GB-ENG"),
    ("Scottish Parliament, Edinburgh EH99 1SP", "GB-SCT"),
    ("George Square, Glasgow G2 1DU", "GB-SCT"),
    ("Senedd, Pierhead St, Cardiff CF99 1SN", "GB-WLS"),
    ("Parliament Buildings, Stormont, Belfast BT4 3XX", "GB-NIR"),
    ("Town Hall, Northgate St, Chester CH1 2HJ", "GB"),  # CH reaches into Flintshire
    ("Berwick-upon-Tweed TD15 1BN", "GB"),  # TD reaches into Northumberland
    ("Hay-on-Wye, Hereford HR3 5AA", "GB"),  # HR3 is partly in Powys
    ("Cardiff, Wales", "GB-WLS"),
    ("Glasgow G2 1DU, England", "GB"),  # the postcode and the nation named disagree
    ("Government Office, Douglas IM1 3PN", "IM"),  # Isle of Man: not the United Kingdom
    ("St Helier JE2 4WA", "JE"),
    ("St Peter Port GY1 1FH", "GG"),
    # China: the province-level division the address starts with
    ("北京市东城区东长安街", "CN-BJ"),
    ("上海市黄浦区人民大道200号", "CN-SH"),
    ("广东省深圳市南山区科技园", "CN-GD"),
    ("中国广东省广州市天河区", "CN-GD"),
    ("中华人民共和国 浙江省杭州市西湖区", "CN-ZJ"),
    ("内蒙古自治区呼和浩特市新城区", "CN-NM"),
    ("新疆维吾尔自治区乌鲁木齐市", "CN-XJ"),
    ("重庆市渝中区", "CN-CQ"),
    ("山西省太原市", "CN-SX"),
    ("陕西省西安市", "CN-SN"),
    ("香港特别行政区中西区", "HK"),  # Hong Kong's own law: not judged as the mainland
    ("中国香港九龙尖沙咀", "HK"),
    ("澳门特别行政区", "MO"),
    ("中国 深圳市南山区", "CN"),  # a city without its province: the country alone
    ("海南藏族自治州共和县", None),  # in Qinghai, not Hainan: no full province name
    ("北京路123号", None),  # a street named after Beijing, in any city
    # neither
    ("12 Rue de Rivoli, 75001 Paris, France", None),
    ("", None),
    ("unknown", None),
]


class TestResidenceOf:
    @pytest.mark.parametrize(("address", "expected"), ADDRESSES)
    def test_real_addresses(self, address: str, expected: str | None) -> None:
        assert residence_of(address) == expected

    @pytest.mark.parametrize(
        ("address", "country", "expected"),
        [
            ("Springfield, IL", "US", "US-IL"),  # a state without a ZIP, the country known
            ("1 Main St, Springfield", "US", "US"),
            ("1600 Pennsylvania Avenue NW, Washington", "US", "US"),
            ("10 Downing Street, London SW1A 2AA", "GB", "GB-ENG"),
            ("10 Downing Street, London SW1A 2AA", "US", "US"),  # the lender's word
            ("1 Federal St, Boston, MA 02110, USA", "GB", "GB"),
            ("广东省深圳市", "CN", "CN-GD"),
            ("香港特别行政区中西区", "CN", "CN"),
            ("12 Rue de Rivoli, 75001 Paris", "FR", "FR"),
            ("Boston, MA 02110", "FR", "FR"),
        ],
    )
    def test_a_country_given(self, address: str, country: str, expected: str) -> None:
        assert residence_of(address, country) == expected

    def test_every_province_level_division(self) -> None:
        """The 34 divisions of ISO 3166-2:CN, the letter codes of 2017 (HK, MO, TW their own)."""
        codes = {residence_of(name + "某市") for name in _PROVINCES}
        assert len(_PROVINCES) == 37  # 34, Hong Kong, Macao and Taiwan also in traditional
        assert codes == {
            *(
                f"CN-{code}"
                for code in [
                    "AH",
                    "BJ",
                    "CQ",
                    "FJ",
                    "GD",
                    "GS",
                    "GX",
                    "GZ",
                    "HA",
                    "HB",
                    "HE",
                    "HI",
                    "HL",
                    "HN",
                    "JL",
                    "JS",
                    "JX",
                    "LN",
                    "NM",
                    "NX",
                    "QH",
                    "SC",
                    "SD",
                    "SH",
                    "SN",
                    "SX",
                    "TJ",
                    "XJ",
                    "XZ",
                    "YN",
                    "ZJ",
                ]
            ),
            "HK",
            "MO",
            "TW",
        }

    @pytest.mark.parametrize(
        ("address", "country", "field", "shown"),
        [
            (12345678, None, "address", "int"),
            (["1 Federal St"], None, "address", "list"),
            ("1 Federal St, Boston, MA 02110" * 20, None, "address", "<600 characters>"),
            ("1 Federal St, Boston, MA 02110", "us", "country", "us"),
            ("1 Federal St, Boston, MA 02110", "USA", "country", "USA"),
        ],
    )
    def test_refused_naming_the_field_never_the_address(
        self, address: Any, country: Any, field: str, shown: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            residence_of(address, country)
        assert caught.value.field == field
        assert str(caught.value.value) == shown
        assert "Federal" not in str(caught.value)

    def test_the_longest_address_is_read(self) -> None:
        address = "1 Federal St, Boston, MA 02110".rjust(ADDRESS)
        assert residence_of(address) == "US-MA"

    @settings(max_examples=300, deadline=None)
    @given(
        st.text(max_size=ADDRESS)
        | st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        ", ",
                        " ",
                        "\n",
                        "MA",
                        "DC",
                        "02110",
                        "20500",
                        "Washington",
                        "EH1 1AA",
                        "TD15 1BN",
                        "SW1A 2AA",
                        "USA",
                        "UK",
                        "Wales",
                        "中国",
                        "广东省",
                        "香港",
                        "北京市",
                        "New York",
                        "IM1 3PN",
                        "England",
                    ]
                ),
                max_size=12,
            ),
        ),
        st.none() | st.sampled_from(["US", "GB", "CN", "FR", "HK"]),
    )
    def test_never_raises_and_gives_a_code_a_debtor_takes(
        self, address: str, country: str | None
    ) -> None:
        found = residence_of(address, country)
        if found is not None:
            assert Debtor(id="D-1", residence=found).residence == found
            if country is not None:
                assert found.partition("-")[0] == country


def record(case_id: str, debtor: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "America/New_York", **debtor},
        "contacts": [{"id": "sms", "channel": "sms", "address": "+16175550100"}],
        "balance": {"currency": "USD", "principal": "900.00"},
        "due_date": "2026-07-01",
    }


class TestADebtorsAddress:
    def make(self) -> Engine:
        return Engine(
            compliance=Compliance(jurisdictions=BY_STATE, role="creditor"),
            clock=SettableClock(AT),
        )

    def test_the_residence_is_read_and_the_address_not_kept(self) -> None:
        """209 CMR 18.01(1) and 940 CMR 7.05(3)(e): a Boston address is judged by Massachusetts'
        hours; the address is in neither the case nor its journal."""
        made = self.make()
        made.open_case(record("C-1", {"address": "1 Federal St, Boston, MA 02110"}))
        assert made.case("C-1").debtor.residence == "US-MA"
        verdict = made.judge_contact("C-1", SMS, record=False)
        assert [reason.rule for reason in verdict.reasons] == ["US-MA-HOURS"]
        stored = json.dumps([entry.data for entry in made.history("C-1")], default=str)
        assert "Federal" not in stored
        assert "Federal" not in made.case("C-1").model_dump_json()

    def test_a_new_york_address_reaches_the_new_york_pack(self) -> None:
        """GBL 601(6): a creditor's text at 21:30 to a debtor with an Albany address is denied
        by New York's hours once the lender maps US-NY; a Boston debtor of the same lender is
        still judged by Massachusetts's, and a debtor in New Hampshire by Regulation F alone,
        which does not bind a creditor."""
        made = Engine(
            compliance=Compliance(jurisdictions={**BY_STATE, "US-NY": ["US-NY"]}, role="creditor"),
            clock=SettableClock(AT),
        )
        cases = ("NY-1", "MA-1", "NH-1")
        made.open_case(record("NY-1", {"address": "40 Pine St, Albany, NY 12207"}))
        made.open_case(record("MA-1", {"address": "1 Federal St, Boston, MA 02110"}))
        made.open_case(record("NH-1", {"address": "107 N Main St, Concord, NH 03301"}))
        assert made.case("NY-1").debtor.residence == "US-NY"
        assert made.compliance.packs_for("US-NY") == ("US-NY",)
        verdicts = {case_id: made.judge_contact(case_id, SMS, record=False) for case_id in cases}
        rules = {
            case_id: [reason.rule for reason in verdicts[case_id].reasons] for case_id in cases
        }
        assert rules == {"NY-1": ["US-NY-HOURS"], "MA-1": ["US-MA-HOURS"], "NH-1": []}

    def test_a_residence_given_wins(self) -> None:
        made = self.make()
        made.open_case(
            record("C-1", {"address": "1 Federal St, Boston, MA 02110", "residence": "US-NY"})
        )
        assert made.case("C-1").debtor.residence == "US-NY"
        assert made.judge_contact("C-1", SMS, record=False).allowed

    def test_an_address_that_cannot_be_read_leaves_no_residence(self) -> None:
        made = self.make()
        made.open_cases(
            [
                record("C-1", {"address": "1 Main St, Springfield"}),
                record("C-2", {"address": None}),
            ]
        )
        assert made.case("C-1").debtor.residence is None
        assert made.case("C-2").debtor.residence is None

    @pytest.mark.parametrize(
        ("address", "shown"),
        [("x" * (ADDRESS + 1) + "Federal", f"<{ADDRESS + 8} characters>"), (90210, "*0210")],
    )
    def test_a_bad_address_is_refused_masked(self, address: Any, shown: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            self.make().open_case(record("C-1", {"address": address}))
        assert caught.value.field == "debtor.address"
        assert str(caught.value.value) == shown
        assert "Federal" not in str(caught.value)
        assert "90210" not in str(caught.value)

    def test_the_csv_column(self, tmp_path: Path) -> None:
        path = tmp_path / "portfolio.csv"
        path.write_text(
            "id,debtor_id,currency,principal,due_date,address,residence\n"
            'L-1,D-1,USD,10.00,2026-09-01,"1 Federal St, Boston, MA 02110",\n'
            "L-2,D-2,CNY,10.00,2026-09-01,广东省深圳市南山区,CN-BJ\n"
            f"L-3,D-3,USD,10.00,2026-09-01,{'Federal St ' * 50},\n",
            encoding="utf-8",
        )
        made = Engine(clock=SettableClock(AT))
        report = import_portfolio(made, path, skip_bad=True)
        assert made.case("L-1").debtor.residence == "US-MA"
        assert made.case("L-2").debtor.residence == "CN-BJ"
        assert [(error.line, error.field) for error in report.errors] == [(4, "address")]
        assert "Federal" not in str(report.errors[0])
        again = import_portfolio(made, path, skip_bad=True)  # the same rows: already imported
        assert again.conflicts == []

    def test_the_scenario_key(self, tmp_path: Path) -> None:
        path = tmp_path / "scenario.yaml"
        path.write_text(
            """\
name: a Boston address places the debtor in Massachusetts
jurisdictions: {US-MA: [US-MA], US: [US-RegF]}
role: creditor
case:
  id: C-1
  timezone: America/New_York
  address: "1 Federal St, Boston, MA 02110"
  currency: USD
  balance: "900.00"
  due_date: 2026-07-01
  contacts:
    - {id: sms, channel: sms, address: "+16175550100"}
expect:
  - at: 2026-10-07T21:30:00-04:00
    contact: {channel: sms, contact: sms, text: "Your account is past due. Reply STOP to opt out."}
    verdict: deny
    rules: [US-MA-HOURS]
""",
            encoding="utf-8",
        )
        result = run_scenario(path)
        assert result.passed, result.failures
