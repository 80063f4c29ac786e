"""Word lists the synthetic entities are made of: provinces, names, domain words."""

from __future__ import annotations

from typing import NamedTuple


class Province(NamedTuple):
    full: str  # 浙江省
    short: str  # 浙江
    abbr: str  # 浙: the province's own abbreviation, as the 省份 column may write it
    icp: str  # 浙: the filing authority's abbreviation in ICP numbers
    legacy_icp: str  # 川 for 蜀 etc.: how old records write the authority; "" if none
    city: str
    areas: tuple[str, ...]  # county codes, valid in stdnum's table for births after 1992


PROVINCES = (
    Province("北京市", "北京", "京", "京", "", "北京", ("110101", "110105", "110108")),
    Province("天津市", "天津", "津", "津", "", "天津", ("120101", "120104")),
    Province("河北省", "河北", "冀", "冀", "", "石家庄", ("130102", "130104")),
    Province("山西省", "山西", "晋", "晋", "", "太原", ("140105", "140106")),
    Province("内蒙古自治区", "内蒙古", "蒙", "蒙", "", "呼和浩特", ("150102",)),
    Province("辽宁省", "辽宁", "辽", "辽", "", "沈阳", ("210102", "210103")),
    Province("吉林省", "吉林", "吉", "吉", "", "长春", ("220102",)),
    Province("黑龙江省", "黑龙江", "黑", "黑", "", "哈尔滨", ("230102",)),
    Province("上海市", "上海", "沪", "沪", "", "上海", ("310101", "310104", "310105")),
    Province("江苏省", "江苏", "苏", "苏", "", "南京", ("320102", "320105", "320583")),
    Province("浙江省", "浙江", "浙", "浙", "", "杭州", ("330102", "330106", "330108", "330203")),
    Province("安徽省", "安徽", "皖", "皖", "", "合肥", ("340102", "340104")),
    Province("福建省", "福建", "闽", "闽", "", "福州", ("350102", "350203")),
    Province("江西省", "江西", "赣", "赣", "", "南昌", ("360102",)),
    Province("山东省", "山东", "鲁", "鲁", "", "济南", ("370102", "370202")),
    Province("河南省", "河南", "豫", "豫", "", "郑州", ("410102", "410105")),
    Province("湖北省", "湖北", "鄂", "鄂", "", "武汉", ("420102", "420106")),
    Province("湖南省", "湖南", "湘", "湘", "", "长沙", ("430102", "430104")),
    Province("广东省", "广东", "粤", "粤", "", "广州", ("440103", "440104", "440106", "440304")),
    Province("广西壮族自治区", "广西", "桂", "桂", "", "南宁", ("450102",)),
    Province("海南省", "海南", "琼", "琼", "", "海口", ("460106",)),
    Province("重庆市", "重庆", "渝", "渝", "", "重庆", ("500106", "500112")),
    Province("四川省", "四川", "川", "蜀", "川", "成都", ("510104", "510105")),
    Province("贵州省", "贵州", "贵", "黔", "贵", "贵阳", ("520102", "520103")),
    Province("云南省", "云南", "云", "滇", "云", "昆明", ("530102", "530103")),
    Province("西藏自治区", "西藏", "藏", "藏", "", "拉萨", ("540102",)),
    Province("陕西省", "陕西", "陕", "陕", "", "西安", ("610102", "610103")),
    Province("甘肃省", "甘肃", "甘", "陇", "甘", "兰州", ("620102", "620103")),
    Province("青海省", "青海", "青", "青", "", "西宁", ("630102",)),
    Province("宁夏回族自治区", "宁夏", "宁", "宁", "", "银川", ("640104",)),
    Province("新疆维吾尔自治区", "新疆", "新", "新", "", "乌鲁木齐", ("650102",)),
)
# Where most legacy filings came from; the four 川贵云甘 provinces stay frequent on purpose.
PROVINCE_WEIGHTS = tuple(
    {"浙": 9, "粤": 8, "京": 7, "沪": 6, "苏": 6, "川": 4, "贵": 3, "云": 3, "甘": 3}.get(p.abbr, 1)
    for p in PROVINCES
)
# Provinces whose written forms (省份) cannot be confused: used for name-fallback cases.
PLAIN_PROVINCES = tuple(i for i, p in enumerate(PROVINCES) if p.abbr in "浙粤京沪苏鲁闽")

# County codes that really occur on IDs but that python-stdnum's table rejects for the
# birth year (the county was created later): (area code, province abbr, last such year).
AREAS_NEWER_THAN_BIRTH = (
    ("440305", "粤", 1982),  # 南山区: stdnum knows it from 1983
    ("500103", "渝", 1996),  # 渝中区: Chongqing codes from 1997
    ("330110", "浙", 2000),  # 余杭区: from 2001
    ("310115", "沪", 1991),  # 浦东新区: from 1992
    ("320506", "苏", 1999),  # 吴中区: from 2000
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍红鹏辉建国"
    "文斌宇浩凯晨欣怡婷雪琳晶飞鑫波宁亮峰俊丹慧莹颖倩"
)
LATIN_SURNAMES = ("SMITH", "MÜLLER", "GARCIA", "TANAKA", "KIM", "NGUYEN", "SILVA", "BROWN")
LATIN_GIVEN = ("JOHN", "ANNA", "DAVID", "MARIA", "KENJI", "MIN-JUN", "LUCAS", "EMMA")

# 100 characters for organization brand names; three of them (base 100) name an org.
BRAND = (
    "瑞丰华信恒达盛鑫源泰安宏博创嘉智联通星海天润德福隆兴永昌荣和顺祥利晟新佳汇金银宝龙凤云辰"
    "锦绣明光远航正大中美康健乐欣悦诚实力合众方圆东南西北春秋朗晴雅致诺捷迅飞越腾跃谷峰川林森"
    "蓝绿紫橙弘毅璟瀚骏麒琪璞"
)
assert len(BRAND) == len(set(BRAND)) == 100
INDUSTRIES = ("科技", "网络科技", "信息技术", "贸易", "电子商务", "文化传媒", "广告", "教育咨询",
              "建筑工程", "物流", "服饰", "茶业", "旅游", "医疗器械", "软件", "餐饮管理")
ORG_NAME_FORMS = {
    "enterprise": ("{city}{brand}{industry}有限公司", "{city}{brand}{industry}股份有限公司"),
    "public_institution": ("{city}市{brand}研究所", "{city}市{brand}职业技术学校"),
    "government": ("{city}市{brand}区人民政府办公室", "{city}市{brand}新区管理委员会"),
    "social_group": ("{city}市{brand}{industry}协会", "{prov}{brand}商会"),
    "private_non_enterprise": ("{city}{brand}培训学校", "{city}{brand}养老服务中心"),
    "foundation": ("{prov}{brand}慈善基金会", "{prov}{brand}教育基金会"),
    "law_firm": ("{prov}{brand}律师事务所", "{city}{brand}律师事务所"),
}
ENTITY_TYPE_ZH = {
    "enterprise": "企业",
    "individual": "个人",
    "public_institution": "事业单位",
    "government": "政府机关",
    "social_group": "社会团体",
    "private_non_enterprise": "民办非企业单位",
    "foundation": "基金会",
    "law_firm": "律师事务所",
}
CERT_TYPE_ZH = {
    "uscc": "统一社会信用代码",
    "org_code": "组织机构代码证",
    "business_license": "营业执照",
    "resident_id": "身份证",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
}
# The first two USCC characters by entity type (registering department + category).
USCC_PREFIX = {
    "enterprise": ("91", "91", "91", "Y1"),
    "public_institution": ("12", "A1"),
    "government": ("11",),
    "social_group": ("51", "N1"),
    "private_non_enterprise": ("52",),
    "foundation": ("53",),
    "law_firm": ("31",),
}

DOMAIN_WORDS = (
    "ruifeng", "huaxin", "tianhe", "jiaxing", "xinghai", "longteng", "chaye", "meishi", "lvyou",
    "keji", "wangluo", "dianzi", "jiaoyu", "fuzhuang", "jiancai", "wuliu", "shop", "mall", "tea",
    "food", "tech", "cloud", "data", "home", "life", "art", "design", "studio", "blog", "photo",
    "music", "travel", "health", "auto", "print", "game", "xihu", "qiantang", "zhujiang", "bund",
)
TLDS = ("com", "cn", "com.cn", "net", "net.cn", "cn", "com", "org.cn", "cc")
IDN_WORDS = ("茶叶", "美食", "旅游", "科技", "家居", "书店", "花店", "律所", "教育", "商城", "服饰")
IDN_TLDS = ("中国", "公司", "网络", "cn", "com")
PRODUCTS_ZH = {"domain": "域名", "enterprise_website": "企业建站", "winport_shop": "旺铺"}
MAIL_HOSTS = ("163.com", "qq.com", "126.com", "sina.com", "aliyun.com", "foxmail.com")
