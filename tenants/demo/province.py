"""The demo provinces' tenants, with members and grassroots organisations per tenant.

Ninh Binh's totals follow the provincial report: 75,180 members in 663 grassroots organisations
(2023). Yen Mo has 6,014 members, of whom 5,413 (90%) log in each month in the pilot. A second,
small province (Ha Nam) has its own ``handbook`` flag and plan: it shows the rollout's province
wall (killing or rolling out one province's flag never touches the other's).
"""

from __future__ import annotations

from dataclasses import dataclass

from tenants.models import TenantKind

PROVINCE_ID = "ninh-binh"
PROVINCE_NAME = "Ninh Bình"
TIMEZONE = "Asia/Ho_Chi_Minh"
TOTAL_MEMBERS = 75_180
TOTAL_ORGANISATIONS = 663


@dataclass(frozen=True, slots=True)
class DemoTenant:
    slug: str
    name: str
    kind: TenantKind
    members: int
    organisations: int


DISTRICT = TenantKind.DISTRICT
COMMITTEE = TenantKind.PROVINCIAL_COMMITTEE

TENANTS: tuple[DemoTenant, ...] = (
    DemoTenant("ninh-binh-city", "Đảng bộ thành phố Ninh Bình", DISTRICT, 9_800, 70),
    DemoTenant("tam-diep-city", "Đảng bộ thành phố Tam Điệp", DISTRICT, 4_100, 36),
    DemoTenant("nho-quan", "Đảng bộ huyện Nho Quan", DISTRICT, 9_600, 78),
    DemoTenant("gia-vien", "Đảng bộ huyện Gia Viễn", DISTRICT, 7_900, 62),
    DemoTenant("hoa-lu", "Đảng bộ huyện Hoa Lư", DISTRICT, 6_300, 52),
    DemoTenant("yen-khanh", "Đảng bộ huyện Yên Khánh", DISTRICT, 8_400, 68),
    DemoTenant("kim-son", "Đảng bộ huyện Kim Sơn", DISTRICT, 9_300, 75),
    DemoTenant("yen-mo", "Đảng bộ huyện Yên Mô", DISTRICT, 6_014, 58),
    DemoTenant("police", "Đảng bộ Công an tỉnh", COMMITTEE, 3_200, 48),
    DemoTenant("military", "Đảng bộ Quân sự tỉnh", COMMITTEE, 2_900, 42),
    DemoTenant("agencies", "Đảng bộ Khối các cơ quan tỉnh", COMMITTEE, 4_700, 50),
    DemoTenant("enterprises", "Đảng bộ Khối doanh nghiệp tỉnh", COMMITTEE, 2_966, 24),
)


@dataclass(frozen=True, slots=True)
class DemoProvince:
    id: str
    name: str
    timezone: str
    tenants: tuple[DemoTenant, ...]


NINH_BINH = DemoProvince(PROVINCE_ID, PROVINCE_NAME, TIMEZONE, TENANTS)
HA_NAM = DemoProvince(
    "ha-nam",
    "Hà Nam",
    TIMEZONE,
    (
        DemoTenant("duy-tien", "Đảng bộ thị xã Duy Tiên", DISTRICT, 60, 3),
        DemoTenant("kim-bang", "Đảng bộ huyện Kim Bảng", DISTRICT, 45, 2),
        DemoTenant("thanh-liem", "Đảng bộ huyện Thanh Liêm", DISTRICT, 30, 2),
    ),
)
PROVINCES = (NINH_BINH, HA_NAM)

YEN_MO_COMMUNES = (
    "Yên Phong",
    "Yên Thắng",
    "Yên Thành",
    "Yên Hòa",
    "Yên Hưng",
    "Yên Mạc",
    "Yên Mỹ",
    "Yên Nhân",
    "Yên Từ",
    "Yên Lâm",
    "Khánh Thịnh",
    "Khánh Thượng",
    "Khánh Dương",
    "Mai Sơn",
    "Yên Đồng",
    "Yên Thái",
)

# Religious believers are a larger share in Kim Son (the report: 20+ of ~200 admitted a year).
BELIEVER_SHARE = {"kim-son": 0.10}
DEFAULT_BELIEVER_SHARE = 0.03

DOCUMENTS = (
    (
        "21-NQ/TW",
        "2022-06-16",
        "Nghị quyết Hội nghị Trung ương 5 khóa XIII về tăng cường củng cố, "
        "xây dựng tổ chức cơ sở đảng và nâng cao chất lượng đội ngũ đảng viên trong giai đoạn mới",
        "Mỗi năm kết nạp đảng viên mới đạt từ 3% trở lên so với tổng số đảng viên.",
    ),
    (
        "24-QĐ/TW",
        "2021-07-30",
        "Quy định thi hành Điều lệ Đảng",
        "Hướng dẫn thủ tục kết nạp, chuyển sinh hoạt và quản lý đảng viên.",
    ),
    (
        "12-HD/BTCTW",
        "2022-06-06",
        "Hướng dẫn một số vấn đề cụ thể thi hành Điều lệ Đảng",
        "Hồ sơ đảng viên, sinh hoạt chi bộ, đánh giá chất lượng đảng viên.",
    ),
    (
        "08-QĐi/TW",
        "2018-10-25",
        "Quy định về trách nhiệm nêu gương của cán bộ, đảng viên",
        "Cán bộ, đảng viên nêu gương trong công tác và sinh hoạt.",
    ),
    (
        "05-CT/TW",
        "2016-05-15",
        "Chỉ thị về đẩy mạnh học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
        "Học tập và làm theo gương Bác trong từng chi bộ.",
    ),
    (
        "06-NQ/TU",
        "2023-03-10",
        "Nghị quyết về chuyển đổi số tỉnh Ninh Bình",
        "Ứng dụng sổ tay đảng viên điện tử trong sinh hoạt chi bộ.",
    ),
)
