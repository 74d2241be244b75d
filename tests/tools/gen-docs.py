#!/usr/bin/env python3
"""Synthetic Vietnamese documents as ingest JSONL (the contract's `ingest` format).

Usage: tests/tools/gen-docs.py COUNT > docs.jsonl
Syllables are drawn with a Zipf-like law; one document in ten is an unaccented
social-style post. Deterministic (seeded), so runs compare.
"""
import json
import random
import sys
import unicodedata

SYLLABLES = (
    "của và các có được cho là trong người những với không này đã một năm công tác "
    "phát triển kinh tế xã hội tỉnh huyện thành phố dân chuyển đổi số an toàn thông tin "
    "giao thông du lịch biển nông nghiệp nho táo điện gió mặt trời giáo dục y tế bệnh viện "
    "học sinh đường chính quyền cán bộ tổ chức hoạt động bão lũ mưa lớn cảnh báo lừa đảo "
    "mạng xã hội tài khoản ngân hàng chuyển khoản trúng thưởng đầu tư dự án nhà máy "
    "hợp tác xã sản xuất thu hoạch giá cả thị trường xuất khẩu doanh nghiệp lao động việc làm "
    "Ninh Thuận Phan Rang Tháp Chàm Ninh Hải Thuận Bắc Bác Ái Ninh Phước Ninh Sơn"
).split()
SOURCES = ["Báo Ninh Thuận", "Đài PT-TH Ninh Thuận", "Báo Thanh Niên", "VnExpress", "Tuổi Trẻ",
           "Trang Tin Phan Rang", "Fanpage Ninh Hải", "Dân Trí"]


def fold(text):
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(20231)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(SYLLABLES))]
    out = sys.stdout
    for i in range(count):
        words = rng.choices(SYLLABLES, weights, k=90)
        title_words = rng.choices(SYLLABLES, weights, k=9)
        social = i % 10 == 9
        text = " ".join(words[:45]) + ". " + " ".join(words[45:]) + "."
        title = " ".join(title_words).capitalize()
        if social:
            text, title = fold(text), fold(title)
        day = 1 + i % 28
        month = 1 + (i // 28) % 12
        doc = {
            "url": f"https://tin{i % 97}.example.vn/bai/{i}.html",
            "title": title,
            "text": text,
            "source": SOURCES[i % len(SOURCES)],
            "published_at": f"2023-{month:02d}-{day:02d}T08:{i % 60:02d}:00+07:00",
            "kind": "post" if social else "article",
        }
        out.write(json.dumps(doc, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
