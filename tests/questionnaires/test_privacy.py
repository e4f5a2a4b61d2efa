"""Personal data in residents' free text: masked before storage, near-misses left alone.

The corpus is written the way residents type on phones: full-width digits, spaces and dashes inside
numbers, numbers glued to Chinese text.  ID numbers with valid check digits were computed by the
GB 11643 rule (11010519491231002X is the standard's own example).
"""

import numpy as np
import pytest

from data.demo import synthetic_answers
from questionnaires import INDICATORS, load_default
from questionnaires.answers import clean_answers
from questionnaires.privacy import MASKS, count_masks, is_resident_id, mask_personal_data

PHONE, ID, EMAIL, PLATE = MASKS["phone"], MASKS["id_number"], MASKS["email"], MASKS["plate"]

# (text as typed, text as stored)
MASKED = [
    ("有问题请联系我13812345678", f"有问题请联系我{PHONE}"),
    ("我的电话：138 1234 5678，欢迎回访", f"我的电话：{PHONE}，欢迎回访"),
    ("电话138-1234-5678", f"电话{PHONE}"),
    ("手机 １３９１２３４５６７８ 谢谢", f"手机 {PHONE} 谢谢"),
    ("手机：１３９ １２３４ ５６７８", f"手机：{PHONE}"),
    ("+86 186 0000 1234 是我的号码", f"{PHONE} 是我的号码"),
    ("+8618600001234", PHONE),
    ("0086-15900001111找王阿姨", f"{PHONE}找王阿姨"),
    ("86 17712345678", PHONE),
    ("楼下噪音大，电话19912345678", f"楼下噪音大，电话{PHONE}"),
    ("电话是13５１２３4５６７８", f"电话是{PHONE}"),
    ("打1331234 5678就行", f"打{PHONE}就行"),
    ("座机0571-87654321", f"座机{PHONE}"),
    ("固话(0571)87654321有人接", f"固话{PHONE}有人接"),
    ("办公室电话 021 6543 2100", f"办公室电话 {PHONE}"),
    ("联系电话：0755-2345678", f"联系电话：{PHONE}"),
    ("号码０２０－８８８８６６６６", f"号码{PHONE}"),
    ("我身份证号11010519491231002X", f"我身份证号{ID}"),
    ("身份证 11010519491231002x 可以核实", f"身份证 {ID} 可以核实"),
    ("身份证号：33010619900101123X", f"身份证号：{ID}"),
    ("ID 440304198512153677", f"ID {ID}"),
    ("４４０３０４１９８５１２１５３６７７是我的", f"{ID}是我的"),
    ("5101 0719 7811 0305 21", ID),
    ("身份证320583-19950620-4419", f"身份证{ID}"),
    ("邮箱zhang.san@example.com", f"邮箱{EMAIL}"),
    ("请发到 li_si+survey@mail.example.cn ，谢谢", f"请发到 {EMAIL} ，谢谢"),
    ("我的QQ邮箱12345678@qq.com", f"我的QQ邮箱{EMAIL}"),
    ("Email: WANG@EXAMPLE.ORG", f"Email: {EMAIL}"),
    ("车牌浙A12345一直乱停", f"车牌{PLATE}一直乱停"),
    ("粤B·D12345天天占消防通道", f"{PLATE}天天占消防通道"),
    ("京A-88888停在人行道上", f"{PLATE}停在人行道上"),
    ("苏E 6B789 把路堵了", f"{PLATE} 把路堵了"),
    ("川A12345和渝B67890都乱停", f"{PLATE}和{PLATE}都乱停"),
    ("沪AD12345是新能源车", f"{PLATE}是新能源车"),
    ("电话13812345678，身份证11010519491231002X", f"电话{PHONE}，身份证{ID}"),
    ("13812345678", PHONE),
    ("电话13812345678 3栋2单元", f"电话{PHONE} 3栋2单元"),
]

# Near-misses that must be stored exactly as typed.
KEPT = [
    "2026年11月23日上午来过一次",
    "2026-11-23 的活动很好",
    "20261123 那天下雨",
    "垃圾清运费每月15元，太贵",
    "补贴1,200元什么时候发",
    "物业费一年3600元",
    "表单编号 202611230001",
    "订单号 2026112300012345 一直没处理",
    "编号110105194912310021的工单没人管",  # 18 digits, wrong check digit: a form number
    "工单号 440304198513153677",  # month 13: not a birth date
    "请拨打12345市民热线",
    "110 和 120 都打过",
    "400-800-1234 是物业客服",
    "小区有128户，60岁以上的有300多人",
    "3号楼2单元501室门口",
    "温度35.5度，太热",
    "公交12路、103路太挤",
    "建议增加10个垃圾桶",
    "身高175cm体重60kg",
    "版本V2.3.1的小程序打不开",
    "7×24小时服务",
    "打分：10分满分给9分",
    "京A级景区门口卫生差",
    "浙江省杭州市西湖区",
    "A区B栋的路灯坏了",
    "@物业 请处理一下",
    "电话号码就不留了",
    "1381234567 少一位",
    "138123456789 多一位",
    "手机号12812345678不对",
]


@pytest.mark.parametrize(("typed", "stored"), MASKED)
def test_personal_data_is_masked(typed, stored):
    masked, count = mask_personal_data(typed)
    assert masked == stored
    assert count == count_masks(stored) >= 1


@pytest.mark.parametrize("typed", KEPT)
def test_near_misses_are_kept(typed):
    assert mask_personal_data(typed) == (typed, 0)


def test_corpus_holds_at_least_fifty_written_examples():
    assert len(MASKED) + len(KEPT) >= 50
    assert len(KEPT) >= 20


def test_resident_id_check_digit_follows_gb_11643():
    assert is_resident_id("11010519491231002X")  # the standard's own example
    assert not is_resident_id("110105194912310021")
    assert not is_resident_id("010105194912310021")  # no region starts with 0
    assert not is_resident_id("11010519491331002X")  # month 13


def test_masking_happens_before_storage_in_the_answer_rules():
    questionnaire = load_default()
    text_question = next(q for q in questionnaire.questions if q.type == "text")
    answers = synthetic_answers(questionnaire, np.random.default_rng(1), dict.fromkeys(INDICATORS, 0.9))
    answers[text_question.code] = "  停车难，请联系13812345678  "
    cleaned = clean_answers(questionnaire, answers)
    assert cleaned[text_question.code] == f"停车难，请联系{PHONE}"
    assert "13812345678" not in repr(cleaned)


def test_non_text_and_empty_input_is_harmless():
    assert mask_personal_data("") == ("", 0)
    assert count_masks(None) == 0
    assert mask_personal_data("\ud800 13812345678")[1] == 1
