"""A synthetic but realistic courtroom transcript corpus for the search benchmark.

Mostly Mandarin civil-hearing utterances by role (templates filled with names, amounts, dates and
varied legal vocabulary), some English and some mixed sentences; lengths from a few characters to
a few sentences, as live transcription segments are. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志红梅海燕鹏飞雪琳"
CAUSES = [
    "借款合同",
    "买卖合同",
    "租赁合同",
    "劳动合同",
    "建设工程施工合同",
    "民间借贷",
    "机动车交通事故责任",
    "离婚",
    "继承",
    "物业服务合同",
    "金融借款合同",
    "保证合同",
    "房屋买卖合同",
    "侵权责任",
    "股权转让",
]
LEGAL = [
    "诉讼请求",
    "事实与理由",
    "举证期限",
    "质证意见",
    "违约责任",
    "利息损失",
    "违约金",
    "本金",
    "逾期利息",
    "保证责任",
    "连带责任",
    "鉴定意见",
    "证人证言",
    "书证",
    "银行流水",
    "转账记录",
    "借条",
    "欠条",
    "收据",
    "合同约定",
    "履行期限",
    "解除合同",
    "损害赔偿",
    "精神损害抚慰金",
    "误工费",
    "医疗费",
    "护理费",
    "租金",
    "押金",
    "工资",
    "经济补偿金",
    "加班费",
    "诉讼时效",
    "管辖权异议",
    "财产保全",
    "调解",
    "和解",
    "撤诉",
]
ROLES = ["presiding_judge", "judge", "clerk", "plaintiff", "defendant", "agent", "witness", "expert"]
ROLE_WEIGHTS = [22, 4, 6, 20, 20, 18, 7, 3]
JUDGE = [
    "现在开庭。",
    "请原告陈述{legal}。",
    "被告对原告提交的{legal}有无异议？",
    "本庭归纳争议焦点如下：{legal}是否成立。",
    "下面进行法庭调查。",
    "请双方围绕{legal}发表意见。",
    "原告，你方主张的{amount}元包括哪些部分？",
    "本案系{cause}纠纷，依法适用普通程序。",
    "被告是否同意调解？",
    "休庭十分钟。",
    "现在宣布闭庭。",
    "请书记员记录在案。",
    "请证人{name}到庭作证。",
    "双方是否还有新的证据提交？",
    "本庭将在{date}宣判。",
]
PARTY = [
    "我方要求被告偿还{legal}{amount}元。",
    "{date}被告向原告借款{amount}元，约定月利率{rate}%。",
    "对方提交的{legal}不真实，我方不认可。",
    "我方已经按照合同约定履行了义务。",
    "这笔钱我已经还了，有{legal}为证。",
    "我没有收到过这份{legal}。",
    "对{legal}的真实性无异议，但对关联性有异议。",
    "当时是{name}经手的，他可以作证。",
    "我们愿意调解，但是{legal}不能接受。",
    "原告主张的{legal}过高，请求法院依法调整。",
]
WITNESS = [
    "我当时在现场，看到{name}把钱交给了对方。",
    "具体时间是{date}，大概下午三点。",
    "我和原告是同事关系。",
    "经鉴定，{legal}与本案事实相符。",
    "我不太记得了。",
    "是的，我确认。",
]
ENGLISH = [
    "The defendant breached the contract by failing to pay the interest on {date}.",
    "Objection, your honor, the witness is speculating.",
    "We submit the bank statement as evidence.",
    "The plaintiff claims damages of {amount} yuan plus interest.",
    "Please state your name for the record.",
    "The lease agreement was terminated in {year}.",
    "Counsel, do you have any further questions for this witness?",
    "This constitutes a breach of contract under the Civil Code.",
    "The guarantee covers the principal and the penalty.",
    "I have no further questions.",
    "The appeal is dismissed and the judgment is upheld.",
    "My client denies any liability for the accident.",
    "The payment was made by wire transfer.",
]
MIXED = [
    "这个 contract 是{date}签的。",
    "对方的 email 里面已经确认了{legal}。",
    "我们提交了 WeChat 聊天记录作为{legal}。",
    "这笔 payment 是通过银行转账的。",
    "根据 invoice，金额是{amount}元。",
]


@dataclass(frozen=True, slots=True)
class BenchSegment:
    case_index: int
    hearing_index: int
    start_s: float
    end_s: float
    text: str
    role: str
    sealed: bool


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        legal=rng.choice(LEGAL),
        cause=rng.choice(CAUSES),
        amount=rng.choice((5000, 12000, 30000, 86000, 150000, 500000)) + rng.randrange(1000),
        rate=rng.choice((1, 1.5, 2, 2.5)),
        date=f"{rng.randrange(2015, 2025)}年{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日",
        year=rng.randrange(2015, 2025),
        name=_name(rng),
    )


def _utterance(role: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.08:
        pool = ENGLISH
    elif r < 0.12:
        pool = MIXED
    elif role in ("presiding_judge", "judge", "clerk"):
        pool = JUDGE
    elif role in ("witness", "expert"):
        pool = WITNESS
    else:
        pool = PARTY
    # Live segments hold one to three clauses.
    return "".join(_fill(rng.choice(pool), rng) for _ in range(rng.choice((1, 1, 2, 3))))


def generate(rows: int, seed: int = 7, per_hearing: int = 120) -> Iterator[BenchSegment]:
    """``rows`` segments: hearings of ``per_hearing`` segments, 1-3 hearings per case, ~2 % sealed."""
    rng = random.Random(seed)
    hearing, case, t = 0, 0, 0.0
    for i in range(rows):
        if i and i % per_hearing == 0:
            hearing += 1
            t = 0.0
            if rng.random() < 0.6:
                case += 1
        role = rng.choices(ROLES, ROLE_WEIGHTS)[0]
        text = _utterance(role, rng)
        duration = 0.8 + len(text) * 0.22
        yield BenchSegment(case, hearing, t, t + duration, text, role, rng.random() < 0.02)
        t += duration + rng.random() * 2
