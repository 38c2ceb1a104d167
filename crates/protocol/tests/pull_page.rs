//! A pulled page with an entry no client can read (a stamp written by a server before stamps
//! were bounded) is read without it: the rest of the page and the cursor go on.

use protocol::{PullPage, PullResponse};
use serde_json::json;

fn change(seq: u64, hlc: &str) -> serde_json::Value {
    json!({ "server_seq": seq, "item": {
        "type": "change", "change_id": "01a213a8-b14c-72e2-a9d6-283cf6c59cad",
        "device_id": "01a213a8-b14b-757a-830f-fea6bdf71482", "device_seq": 2,
        "author_id": "01a213a8-b055-73cb-8bf6-513c809ac9b9", "schema_version": 2, "hlc": hlc,
        "entity": "Recipient", "entity_id": "01a213a8-b14c-72e2-a9d6-283a341e90d7", "op": "update",
        "fields": { "phone": "13803711234" } } })
}

#[test]
fn an_unreadable_entry_is_left_out_and_the_page_is_read() {
    let good = "0019ec96fae00.00001.01a213a8b14b757a830ffea6bdf71482";
    let unwritable = "0019ec96fae00.100000.01a213a8b14b757a830ffea6bdf71482";
    let page = json!({ "entries": [change(7, good), change(8, unwritable), change(9, good)],
                       "next_cursor": 9, "has_more": false, "head": 9, "generation": "abc" });
    assert!(serde_json::from_value::<PullResponse>(page.clone()).is_err(), "strictly, the page is unreadable");

    let read: PullPage = serde_json::from_str(&page.to_string()).expect("read leniently");
    assert_eq!(read.unreadable, vec![8]);
    let seqs: Vec<u64> = read.response.entries.iter().map(|e| e.server_seq).collect();
    assert_eq!(seqs, vec![7, 9]);
    assert_eq!((read.response.next_cursor, read.response.generation.as_deref()), (9, Some("abc")));
}

#[test]
fn a_readable_page_is_read_as_it_is_and_a_cut_one_still_fails() {
    let page = json!({ "entries": [change(3, "0019ec96fae00.00001.01a213a8b14b757a830ffea6bdf71482")],
                       "next_cursor": 3, "has_more": true, "head": 10 });
    let read = PullPage::from_json(&page.to_string()).expect("read");
    assert!(read.unreadable.is_empty());
    assert_eq!(read.response, serde_json::from_value::<PullResponse>(page.clone()).expect("strict"));
    let text = page.to_string();
    assert!(PullPage::from_json(&text[..text.len() / 2]).is_err(), "a cut reply is not a page");
}
