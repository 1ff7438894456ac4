"""ISO 4217 currency codes a workspace may display amounts in.

The set is ISO 4217's list of active codes (List One, 2025 edition) minus the funds, precious-metal
and testing codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW, XAG, XAU, XBA-XBD, XDR, XPD, XPT,
XSU, XTS, XUA, XXX), which no one keeps spend in.
"""

from __future__ import annotations

_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_4217: frozenset[str] = frozenset(_CODES.split())  # noqa: SIM905 - reads as the ISO table


def normalize_currency(value: str) -> str:
    """``value`` upper-cased if it is an ISO 4217 code in :data:`ISO_4217`; raises ``ValueError`` otherwise."""
    code = value.strip().upper()
    if code not in ISO_4217:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, GBP, ZAR)")
    return code
