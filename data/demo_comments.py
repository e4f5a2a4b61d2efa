"""Suggestions the demo's residents write, in the words residents use in campaign surveys.

Grouped by the satisfaction item they are about (None: about nothing in particular), so a resident
who is dissatisfied with an item tends to write about it, as real residents do.  A few carry a phone
number or a plate: the demo shows them masked, as the import masks them before storing.
"""

from __future__ import annotations

import numpy as np

COMMENTS_BY_ITEM: dict[str | None, list[str]] = {
    "sat_city_appearance": [
        "小区门口的垃圾桶经常满了没人清，夏天异味很大。",
        "垃圾分类宣传了很久，但是收运的时候又混在一起，居民积极性受打击。",
        "主干道很干净，但是一到晚上烟头、塑料袋到处都是，保洁要延长时间。",
        "希望多设置一些垃圾桶，公交站附近找不到扔垃圾的地方。",
        "遛狗不牵绳、狗粪没人清理的现象很普遍，建议加大处罚力度。",
        "电线杆上的小广告刚清理又贴上，治标不治本。",
        "河边绿化带有人乱堆乱放建筑垃圾，举报了好几次还在。",
    ],
    "sat_traffic_order": [
        "电动车逆行、闯红灯太多了，上下班高峰很危险。",
        "学校门口接送孩子的车乱停，每天早上都堵车。",
        "斑马线前机动车礼让行人做得还不够，希望加强执法。",
        "共享单车乱停乱放，把盲道都占了。",
        "十字路口红绿灯时间太短，老年人过马路走不过来。",
        "外卖骑手闯红灯、逆行，建议平台和交警一起管。",
    ],
    "sat_farmers_markets": [
        "农贸市场地面湿滑，气味大，排水需要改造。",
        "菜市场门口流动摊贩占道经营，早上车都过不去。",
        "农贸市场活禽区卫生太差，应该和蔬菜区分开。",
        "市场里的公共厕所又脏又臭，影响买菜心情。",
        "菜场周边乱停车，希望规划一些临时停车位。",
    ],
    "sat_back_streets": [
        "背街小巷的路灯坏了很久没人修，晚上走路不安全。",
        "小巷子里路面坑洼不平，一下雨就积水。",
        "背街小巷下水道经常堵，污水外溢，味道很难闻。",
        "主街整治得很漂亮，背街小巷还是老样子，希望一视同仁。",
        "巷子里飞线充电很多，存在安全隐患。",
    ],
    "sat_old_communities": [
        "老旧小区没有物业，楼道堆满杂物，希望尽快改造。",
        "我们小区是老小区，加装电梯的事情拖了两年还没落实。",
        "老旧小区停车位太少，晚上回来只能停在消防通道上。",
        "小区改造后管线又乱了，楼道飞线充电很危险。",
        "高空抛物时有发生，希望安装监控。",
        "物业服务跟不上，报修要等好几天。",
    ],
    "sat_cultural_facilities": [
        "社区文化活动室经常锁着门，希望按时开放。",
        "图书馆周末人太多，座位不够，建议延长开放时间。",
        "公园里的健身器材坏了好几个，希望及时维修。",
        "希望在城西多建一个文化馆，现在太远了。",
    ],
    "sat_volunteer_service": [
        "志愿服务活动形式比较单一，希望多一些贴近居民需求的项目。",
        "想报名当志愿者，但不知道在哪里报名，希望社区多宣传。",
        "路口的文明劝导志愿者很辛苦，值得点赞。",
    ],
    "sat_community_service": [
        "社区办事要跑好几趟，希望能在网上办理。",
        "网格员很负责，经常上门了解情况。",
        "社区的新时代文明实践站平时没什么活动，希望多办一些讲座。",
        "居委会工作人员态度很好，但是周末没人值班。",
    ],
    None: [
        "停车难是最大的问题，老城区根本找不到车位。",
        "晚上广场舞音乐声太大，影响休息，希望规定时间和音量。",
        "创文不能只在迎检的时候突击，平时也要坚持。",
        "宣传标语很多，但有些形式主义，希望多办实事。",
        "总体变化很大，城市越来越干净了，点赞！",
        "希望创文成果能长期保持下去。",
        "施工噪音太扰民，晚上十点以后还在干活。",
        "无",
        "没有意见",
        "很好",
        "有问题可以联系我 138 1234 5678，我住在这里十多年了。",
        "楼下那辆浙A12345长期占用消防通道，多次反映无果。",
        "希望公共场所多设置一些母婴室和无障碍设施。",
        "公交车班次太少，等车时间太长。",
    ],
}


def demo_comment(rng: np.random.Generator, answers: dict, positive_of: dict[str, frozenset],
                 share: float = 0.3) -> str | None:
    """A suggestion for a demo respondent, or None (most residents leave the box empty).  A resident
    dissatisfied with an item writes about it three times in four."""
    if rng.random() >= share:
        return None
    unhappy = [item for item, positive in positive_of.items()
               if item in COMMENTS_BY_ITEM and answers.get(item) is not None and answers[item] not in positive]
    if unhappy and rng.random() < 0.75:
        bank = COMMENTS_BY_ITEM[unhappy[int(rng.integers(len(unhappy)))]]
    else:
        keys = list(COMMENTS_BY_ITEM)
        bank = COMMENTS_BY_ITEM[keys[int(rng.integers(len(keys)))]]
    return bank[int(rng.integers(len(bank)))]
