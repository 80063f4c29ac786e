"""Provinces in one form, the full name (`浙江省`), from full or short names or abbreviations."""

from __future__ import annotations

import pandas as pd

from ..frames import shared_objects
from .text import compact, compact_column

# full name, short name, abbreviation(s) (the first is the ICP filing authority's)
PROVINCES = [
    ("北京市", "北京", "京"), ("天津市", "天津", "津"), ("河北省", "河北", "冀"),
    ("山西省", "山西", "晋"), ("内蒙古自治区", "内蒙古", "蒙"), ("辽宁省", "辽宁", "辽"),
    ("吉林省", "吉林", "吉"), ("黑龙江省", "黑龙江", "黑"), ("上海市", "上海", "沪"),
    ("江苏省", "江苏", "苏"), ("浙江省", "浙江", "浙"), ("安徽省", "安徽", "皖"),
    ("福建省", "福建", "闽"), ("江西省", "江西", "赣"), ("山东省", "山东", "鲁"),
    ("河南省", "河南", "豫"), ("湖北省", "湖北", "鄂"), ("湖南省", "湖南", "湘"),
    ("广东省", "广东", "粤"), ("广西壮族自治区", "广西", "桂"), ("海南省", "海南", "琼"),
    ("重庆市", "重庆", "渝"), ("四川省", "四川", "蜀川"), ("贵州省", "贵州", "黔贵"),
    ("云南省", "云南", "滇云"), ("西藏自治区", "西藏", "藏"), ("陕西省", "陕西", "陕秦"),
    ("甘肃省", "甘肃", "陇甘"), ("青海省", "青海", "青"), ("宁夏回族自治区", "宁夏", "宁"),
    ("新疆维吾尔自治区", "新疆", "新"), ("香港特别行政区", "香港", "港"),
    ("澳门特别行政区", "澳门", "澳"), ("台湾省", "台湾", "台"),
]
_LOOKUP: dict[str, str] = {}
for _full, _short, _abbrs in PROVINCES:
    _LOOKUP.update({_full: _full, _short: _full, _short + "省": _full})
    _LOOKUP.update({a: _full for a in _abbrs})


def province_name(raw: str) -> str | None:
    """The full province name, or None when the value names no province."""
    return _LOOKUP.get(compact(raw))


def normalize_provinces(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(full names, with unknown values kept as given) and a mask of unknown values."""
    compacted = compact_column(values)
    # province_name of each value; one str object per province, not one per row
    named = pd.Series(shared_objects(compacted.map(_LOOKUP)), index=values.index, dtype=object)
    unknown = values.notna() & named.isna()
    return named.where(~unknown, compacted), unknown
