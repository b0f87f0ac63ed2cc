"""The five purposes of clause 3 and the roles that may declare them (data, used by migrations)."""

PURPOSES = [
    {
        "code": "licensing",
        "position": 1,
        "name_vi": "Quản lý và cấp quyền sử dụng dịch vụ",
        "name_en": "Licence management",
        "clause_vi": "Quản lý và cấp quyền sử dụng các dịch vụ phần mềm mà ExcelCRM cung cấp cho "
        "khách hàng.",
        "clause_en": "Managing and granting the right to use the software services ExcelCRM "
        "provides.",
    },
    {
        "code": "update_notices",
        "position": 2,
        "name_vi": "Thông báo cập nhật",
        "name_en": "Update notices",
        "clause_vi": "Liên lạc, thông báo cho khách hàng khi có cập nhật.",
        "clause_en": "Contacting and notifying the customer when there are updates.",
    },
    {
        "code": "renewal_notices",
        "position": 3,
        "name_vi": "Thông báo gia hạn dịch vụ",
        "name_en": "Renewal notices",
        "clause_vi": "Gửi thông báo gia hạn dịch vụ khi khách hàng sắp hết hạn sử dụng dịch vụ.",
        "clause_en": "Sending service-renewal notices when the customer's service is about to "
        "expire.",
    },
    {
        "code": "customer_care",
        "position": 4,
        "name_vi": "Chăm sóc và hỗ trợ sau bán hàng",
        "name_en": "Customer care",
        "clause_vi": "Thực hiện các hoạt động chăm sóc, hỗ trợ sau bán hàng.",
        "clause_en": "Customer care and after-sales support.",
    },
    {
        "code": "complaints",
        "position": 5,
        "name_vi": "Giải quyết khiếu nại, thắc mắc",
        "name_en": "Complaints",
        "clause_vi": "Giải quyết các khiếu nại, thắc mắc.",
        "clause_en": "Resolving complaints and questions.",
    },
]

SUPPORT = "Support"
ACCOUNT_MANAGEMENT = "Account management"
COMPLIANCE_REVIEWER = "Compliance reviewer"

ROLE_PURPOSES = {
    SUPPORT: ["customer_care", "complaints"],
    ACCOUNT_MANAGEMENT: ["licensing", "update_notices", "renewal_notices"],
    COMPLIANCE_REVIEWER: [],
}
