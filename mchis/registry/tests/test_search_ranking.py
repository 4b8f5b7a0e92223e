"""Finding a child the way stations do (issue 13 §11): the intended child comes first, parents are shown."""

from __future__ import annotations

from django.test import Client

from mchis.registry.selectors import child_search


def names(principal, q):
    return [c.full_name for c in child_search(principal, q=q)]


def test_a_mothers_full_name_finds_her_child_before_children_with_the_words_in_their_names(
    make_child, collector
):
    # given a girl named like the mother, a child whose name holds the words, and the mother's own child
    make_child(full_name="Nguyễn Thị Lan Anh", sex="F", personal_id="", mother_name="Lò Thị Mai")
    make_child(full_name="Bùi Văn An", personal_id="", mother_name="Trần Thị Lan", father_name="Bùi Văn Nam")
    make_child(
        full_name="Đào Minh Khôi", personal_id="", mother_name="Nguyễn Thị Lan", father_name="Đào Văn Hải"
    )
    # when the mother gives her own name, without diacritics
    found = names(collector, "nguyen thi lan")
    # then her child is first (an exact parent name outranks a child whose name merely contains the words)
    assert found[0] == "Đào Minh Khôi"
    assert found == ["Đào Minh Khôi", "Nguyễn Thị Lan Anh"]


def test_the_childs_own_whole_name_comes_before_a_parent_with_that_name(make_child, collector):
    make_child(full_name="Bùi Văn Bình", mother_name="Nguyễn Thị An", personal_id="")
    make_child(full_name="Nguyễn Thị An", sex="F", personal_id="", mother_name="Lò Thị Mai")
    assert names(collector, "Nguyễn Thị An") == ["Nguyễn Thị An", "Bùi Văn Bình"]


def test_family_and_given_name_ranks_the_name_shape_before_scattered_words(make_child, collector):
    # given "an" as a middle name, "an" in a parent's name, and the child "Nguyễn … An"
    make_child(full_name="Nguyễn An Khang", personal_id="", mother_name="Lò Thị Mai", father_name="")
    make_child(full_name="Bùi Văn Tú", personal_id="", father_name="Trần Nguyễn An Bình", mother_name="")
    make_child(full_name="Nguyễn Hoàng Văn An", personal_id="", mother_name="Lò Thị Mai", father_name="")
    # when searching family + given name
    found = names(collector, "nguyen an")
    # then the child named Nguyễn … An is first, the middle-name match next, the parent's last
    assert found == ["Nguyễn Hoàng Văn An", "Nguyễn An Khang", "Bùi Văn Tú"]


def test_search_results_show_the_parents_names(make_child, collector):
    make_child()  # Nguyễn Văn An, father Nguyễn Văn Bình, mother Trần Thị Cúc
    client = Client()
    client.force_login(collector)
    item = client.get("/api/v1/children", {"q": "tran thi cuc"}).json()["items"][0]
    assert (item["mother_name"], item["father_name"]) == ("Trần Thị Cúc", "Nguyễn Văn Bình")
    page = client.get("/children/", {"q": "tran thi cuc"})
    assert page.status_code == 200 and "Trần Thị Cúc" in page.content.decode()


def test_a_commune_search_reads_its_own_rows_and_finds_the_same_children_in_the_same_order(
    make_child, collector, monkeypatch
):
    # given children whose names, guardian and parents hold the words in every way the search knows
    make_child(full_name="Nguyễn Thị Lan Anh", sex="F", personal_id="", mother_name="Lò Thị Mai")
    make_child(
        full_name="Đào Minh Khôi", personal_id="", mother_name="Nguyễn Thị Lan", father_name="Đào Văn Hải"
    )
    make_child(full_name="Lan Văn Nguyễn", personal_id="", guardian_name="Nguyễn Thị Lan")
    make_child(full_name="Bùi Văn An", personal_id="", mother_name="Trần Thị Lan", father_name="Bùi Văn Nam")
    from mchis.registry import selectors

    queries = ("nguyen thi lan", "nguyen lan", "lan", "Trần Thị Lan", "bui an")
    # when the commune's search reads its rows (the small-scope path) and when it goes through the indexes
    unit_first = {q: names(collector, q) for q in queries}
    monkeypatch.setattr(selectors, "SMALL_SCOPE_UNITS", -1)
    indexed = {q: names(collector, q) for q in queries}
    # then both find the same children in the same order
    assert unit_first == indexed
    assert unit_first["nguyen thi lan"][0] == "Đào Minh Khôi"


def test_search_page_counts_up_to_the_cap_from_the_same_ordered_matches(make_child, collector):
    """The API's page and capped count come from one run of the search (issue 20): same rows in the same
    order as `child_search`, the count stops at the cap and says there are more."""
    from mchis.registry.selectors import child_search_page

    for n in range(7):
        make_child(full_name=f"Nguyễn Văn An {chr(65 + n)}", personal_id="", mother_name="Lò Thị Mai")
    make_child(full_name="Bùi Thị Lan", sex="F", personal_id="", mother_name="Lò Thị Mai")
    order = [c.pk for c in child_search(collector, q="nguyen an")]
    assert len(order) == 7
    page = child_search_page(collector, q="nguyen an", limit=3, offset=2, cap=5)
    assert [c.pk for c in page.items] == order[2:5] and (page.count, page.more) == (5, True)
    page = child_search_page(collector, q="nguyen an", limit=3, offset=6, cap=10)
    assert [c.pk for c in page.items] == order[6:] and (page.count, page.more) == (7, False)
    page = child_search_page(collector, q="nguyen an", limit=2, offset=8, cap=5)  # beyond the cap
    assert page.items == [] and (page.count, page.more) == (5, True)
    assert child_search_page(collector, q="khong ai").count == 0
    client = Client()
    client.force_login(collector)
    body = client.get("/api/v1/children?q=nguyen+an&limit=2").json()
    assert (body["count"], body["more"], len(body["items"])) == (7, False, 2)


def test_the_list_page_counts_up_to_the_cap_pages_within_it_and_asks_to_narrow_beyond(
    make_child, collector, monkeypatch
):
    """The page shows the capped count from the same run as its rows (a province's common name matched tens
    of thousands of children, and counting them all took seconds at national size)."""
    from mchis.registry import selectors

    for n in range(5):
        make_child(full_name=f"Nguyễn Văn An {chr(65 + n)}", personal_id="", mother_name="Lò Thị Mai")
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    client = Client()
    client.force_login(collector)
    order = [c.full_name for c in child_search(collector, q="nguyen an")]
    page = client.get("/children/", {"q": "nguyen an", "page": "2"}).content.decode()
    assert (
        "5 trẻ" in page and "2/3" in page and order[2] in page and order[3] in page and order[0] not in page
    )
    assert (
        "3/3" in client.get("/children/", {"q": "nguyen an", "page": "99"}).content.decode()
    )  # past the end
    assert "1/3" in client.get("/children/", {"q": "nguyen an", "page": "x"}).content.decode()
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 3)
    page = client.get("/children/", {"q": "nguyen an"}).content.decode()
    assert "Hơn 3 trẻ: hãy thu hẹp tìm kiếm" in page and "1/2" in page
