"""What a new tenant starts with: the default duty catalog and notice templates of
domain.md. This is the bureau's own content (editable, versioned), so it is kept
in Chinese as issued documents are, not in the interface's message catalogs."""

from __future__ import annotations

DEFAULT_DUTIES: dict[str, list[str]] = {
    "principal": [
        "将保密工作纳入单位领导班子议事日程，每年至少听取一次保密工作汇报，研究解决保密工作重大问题。",
        "明确分管保密工作的领导，健全保密工作机构，配齐配强保密工作人员。",
        "保障保密工作经费，配备必要的保密防护设施设备。",
        "督促领导班子成员落实“一岗双责”，履行分管领域保密工作职责。",
        "带头学习保密法律法规，按要求参加保密教育培训。",
        "对本单位发生的严重泄密事件承担领导责任，组织查处。",
    ],
    "secrecy_lead": [
        "组织制定本单位保密工作制度和年度保密工作计划。",
        "督促落实定密管理、涉密人员管理、涉密载体管理和网络及信息设备保密管理。",
        "组织开展保密自查自评，督促问题整改落实。",
        "组织开展保密宣传教育和培训。",
        "监督落实信息公开保密审查制度。",
        "发生泄密事件时立即报告，组织采取补救措施。",
    ],
    "business_lead": [
        "领导分管业务范围内的保密工作，对分管领域保密工作负领导责任。",
        "督促分管部门落实定密、涉密载体管理和信息公开保密审查等规定。",
        "将保密要求纳入分管业务工作的规划和部署。",
        "督促分管部门涉密人员遵守保密纪律。",
    ],
    "every_leader": [
        "不泄露国家秘密。",
        "只在符合保密要求的场所阅办、保管涉密文件资料。",
        "严格按照规定复制、摘抄、销毁、保存涉密文件资料。",
        "不在非涉密计算机和信息设备中记录、传输、存储国家秘密。",
        "未经批准不携带涉密文件资料到公共场所，确需携带的妥善保管。",
        "不通过无保密措施的通信工具和普通邮政传递国家秘密。",
        "不与家属、亲友和无关人员谈论国家秘密，管好身边工作人员和家属子女。",
        "不在私人通信、公开发表的文章和讲话中涉及国家秘密。",
        "未经批准不在对外交往和接受采访中涉及国家秘密。",
        "未经批准不携带涉密载体出境。",
        "每年参加规定学时的保密教育培训。",
    ],
}

# how the notice names each position (the document's language, not the interface's)
POSITION_TITLES = {
    "principal": "主要负责人",
    "secrecy_lead": "分管保密工作领导",
    "business_lead": "分管业务工作领导",
    "member": "领导班子成员",
}

_INTRO = {
    "principal": "作为本单位保密工作第一责任人，对本单位保密工作负全面领导责任",
    "secrecy_lead": "对本单位保密工作负组织领导责任",
    "business_lead": "按照“一岗双责”要求，对分管业务范围内的保密工作负领导责任",
    "member": "应当严格遵守领导干部保密守则，履行个人保密责任",
}

_BODY = """<p>{{ person_name }}同志：</p>
<p>根据《中华人民共和国保守国家秘密法》及其实施条例和保密工作责任制的有关规定，您作为{{ unit_name }}{{ position_title }}，INTRO。现将您应当承担的保密工作职责告知如下：</p>
{% set n = namespace(i=0) %}
{% if duties %}{% set n.i = n.i + 1 %}<h3>{{ numerals[n.i] }}、岗位职责</h3>
<ol>{% for d in duties %}<li>{{ d }}</li>{% endfor %}</ol>{% endif %}
{% if assigned %}{% set n.i = n.i + 1 %}<h3>{{ numerals[n.i] }}、分管领域职责</h3>
<ol>{% for d in assigned %}<li>{{ d }}</li>{% endfor %}</ol>{% endif %}
{% set n.i = n.i + 1 %}<h3>{{ numerals[n.i] }}、个人保密守则</h3>
<ol>{% for d in personal %}<li>{{ d }}</li>{% endfor %}</ol>
<p>请认真阅读上述职责，签署确认后严格履行，并按要求定期确认履职情况。</p>
<p class="issuer">{{ tenant_name }}<br>{{ year }}年</p>"""

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    position: ("保密工作责任告知书", _BODY.replace("INTRO", intro)) for position, intro in _INTRO.items()
}
