//! Bulk nominations (`POST .../members` with `{"items": [...]}`, a CSV or an XLSX sheet): all
//! or nothing, the quotas for the whole batch under one lock, errors naming the item or the
//! sheet's row and column, one audit entry per member.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    problem_fields, spawn_app, status_json, stored_members, NominationSetup as Setup, TestApp,
};

const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Member creations in the conference's audit log.
async fn logged_creations(app: &TestApp, x: &Setup) -> usize {
    let (s, log) = app
        .get(
            &format!("/api/v1/conferences/{}/log?limit=100", x.conference),
            Some(&x.owner.token),
        )
        .await;
    assert_eq!(s, 200, "{log}");
    log["items"].as_array().map_or(0, |a| {
        a.iter()
            .filter(|e| e["action"] == "create" && e["resource_type"] == "member")
            .count()
    })
}

/// Posts `body` with `content_type`; status, `Location` and the JSON body.
async fn post_sheet(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let rb = app
        .client
        .request(Method::POST, format!("{}{path}", app.address))
        .header("content-type", content_type)
        .bearer_auth(token)
        .body(body);
    status_json(rb.send().await.expect("send")).await
}

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().expect("items")
}

#[actix_web::test]
async fn a_json_batch_of_three_is_stored_in_order_and_each_member_audited() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "json").await;
    let r = app
        .client
        .post(format!("{}{}", app.address, x.members()))
        .bearer_auth(&x.owner.token)
        .json(&json!({"items": [
            {"full_name": "Hun Manet", "is_head": true, "honorific": "H.E."},
            {"full_name": "Sok Chenda Sophea", "category": "alternate"},
            {"full_name": "Chea Vandeth", "category": "adviser", "email": "cv@example.kh"},
        ]}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.header_text("location"),
        x.members(),
        "a batch's Location is the list"
    );
    let (s, body) = status_json(r).await;
    assert_eq!(s, 201, "{body}");
    let names: Vec<&str> = items(&body)
        .iter()
        .map(|m| m["full_name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["Hun Manet", "Sok Chenda Sophea", "Chea Vandeth"]);
    assert!(items(&body)
        .iter()
        .all(|m| m["nomination_status"] == "accepted"));
    assert_eq!(stored_members(&app, x.delegation).await, 3);
    assert_eq!(logged_creations(&app, &x).await, 3);

    // An invalid item names its index, and nothing of the batch is stored.
    let (_, body) = app
        .post(
            &x.members(),
            Some(&x.owner.token),
            &json!({"items": [{"full_name": "Fine"}, {"full_name": "", "gender": "x"}]}),
        )
        .await;
    assert_eq!(
        problem_fields(&body, 422),
        ["items[1].full_name", "items[1].gender"]
    );
    // A focal point's batch with a review field is 403, as for one member.
    let (s, body) = app
        .post(
            &x.members(),
            Some(&x.focal.token),
            &json!({"items": [{"full_name": "A"}, {"full_name": "B", "nomination_status": "accepted"}]}),
        )
        .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(stored_members(&app, x.delegation).await, 3);
}

#[actix_web::test]
async fn a_batch_past_the_quota_is_refused_as_a_whole_like_one_member() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "quota").await;
    x.quotas(&app, json!({"per_delegation": 2})).await;
    let focal = Some(x.focal.token.as_str());
    let (s, body) = app
        .post(
            &x.members(),
            focal,
            &json!({"items": [{"full_name": "One"}, {"full_name": "Two"}, {"full_name": "Three"}]}),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["type"], "/problems/quota-exceeded");
    assert_eq!(
        body["detail"],
        "no place left in this delegation: quota per_delegation (2) reached (items[2] is one too many)"
    );
    assert_eq!(
        stored_members(&app, x.delegation).await,
        0,
        "nothing stored"
    );
    // The single create answers the same status and problem past the quota.
    for name in ["One", "Two"] {
        let (s, b) = app
            .post(&x.members(), focal, &json!({"full_name": name}))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, one) = app
        .post(&x.members(), focal, &json!({"full_name": "Three"}))
        .await;
    assert_eq!((s, &one["type"]), (409, &json!("/problems/quota-exceeded")));
}

#[actix_web::test]
async fn two_batches_at_once_store_at_most_the_quota() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "race").await;
    x.quotas(&app, json!({"per_delegation": 5})).await;
    let batch = |tag: &str| json!({"items": (0..3).map(|i| json!({"full_name": format!("{tag} {i}")})).collect::<Vec<_>>()});
    let (a, b) = (batch("First"), batch("Second"));
    let path = x.members();
    let (ra, rb) = futures::join!(
        app.post(&path, Some(&x.focal.token), &a),
        app.post(&path, Some(&x.focal.token), &b)
    );
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{ra:?} {rb:?}");
    assert_eq!(stored_members(&app, x.delegation).await, 3);
}

/// A CSV of `n` nominations with the export's member columns.
fn nominations_csv(n: usize) -> String {
    let mut csv = String::from(
        "honorific,full_name,family_name,native_name,title,position,category,is_head\n",
    );
    for i in 0..n {
        let head = if i == 0 { "true" } else { "false" };
        let category = if i % 2 == 0 { "adviser" } else { "expert" };
        csv.push_str(&format!(
            "Mr.,Delegate {i:03} Sok,Sok,\"សុខ {i}\",,\"Adviser, Ministry of Foreign Affairs\",{category},{head}\n"
        ));
    }
    csv
}

#[actix_web::test]
async fn a_focal_point_imports_a_csv_of_two_hundred_nominations() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "csv").await;
    let (s, body) = post_sheet(
        &app,
        &x.members(),
        &x.focal.token,
        CSV,
        nominations_csv(200).into_bytes(),
    )
    .await;
    println!(
        "200 nominations: {s} {}",
        serde_json::to_string(
            &json!({"items": [&body["items"][0], "..."], "count": items(&body).len()})
        )
        .unwrap_or_default()
    );
    assert_eq!(s, 201, "{body}");
    assert_eq!(items(&body).len(), 200);
    assert!(items(&body)
        .iter()
        .all(|m| m["nomination_status"] == "nominated"));
    assert_eq!(body["items"][0]["native_name"], "សុខ 0");
    assert_eq!(
        body["items"][1]["position"],
        "Adviser, Ministry of Foreign Affairs"
    );
    assert_eq!(body["items"][0]["is_head"], true);
    assert_eq!(stored_members(&app, x.delegation).await, 200);
}

#[actix_web::test]
async fn a_csv_with_an_error_in_row_17_is_refused_naming_the_row_and_column() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "row17").await;
    // Data rows start at row 2: the 16th data row is row 17. A blank row is skipped, not counted
    // as a member, and keeps its number.
    let mut csv = nominations_csv(20).replace("Delegate 015 Sok", "");
    csv.push_str(",,,,,,,\n");
    let (s, body) = post_sheet(&app, &x.members(), &x.focal.token, CSV, csv.into_bytes()).await;
    println!("row 17: {s} {body}");
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "row 17, full_name", "{body}");
    assert_eq!(body["errors"][0]["message"], "is required");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        stored_members(&app, x.delegation).await,
        0,
        "nothing stored"
    );

    // An unknown column is 422 on the header row.
    let (_, body) = post_sheet(
        &app,
        &x.members(),
        &x.focal.token,
        CSV,
        b"full_name,badge_colour\nSok Chenda,red\n".to_vec(),
    )
    .await;
    assert_eq!(problem_fields(&body, 422), ["row 1, badge_colour"]);
    assert!(body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("unknown column")));
    // A bad cell of is_head names its header.
    let (_, body) = post_sheet(
        &app,
        &x.members(),
        &x.focal.token,
        CSV,
        b"full_name,is_head\nSok Chenda,maybe\n".to_vec(),
    )
    .await;
    assert_eq!(problem_fields(&body, 422), ["row 2, is_head"]);
    assert_eq!(stored_members(&app, x.delegation).await, 0);
}

#[actix_web::test]
async fn an_xlsx_sheet_is_imported_and_random_bytes_are_refused_clearly() {
    use rust_xlsxwriter::Workbook;
    let app = spawn_app().await;
    let x = Setup::new(&app, "xlsx").await;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let rows: [[&str; 4]; 3] = [
        ["full_name", "native_name", "category", "is_head"],
        ["Prak Sokhonn", "ប្រាក់ សុខុន", "representative", "TRUE"],
        ["Kao Kim Hourn", "", "alternate", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet
                    .write_string(r as u32, c as u16, *cell)
                    .expect("write cell");
            }
        }
    }
    // A spreadsheet's booleans are cells of their own type.
    sheet.write_boolean(2, 3, false).expect("write bool");
    let bytes = book.save_to_buffer().expect("xlsx");
    let (s, body) = post_sheet(&app, &x.members(), &x.focal.token, XLSX, bytes).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(items(&body).len(), 2);
    assert_eq!(body["items"][0]["native_name"], "ប្រាក់ សុខុន");
    assert_eq!(body["items"][0]["is_head"], true);
    assert_eq!(body["items"][1]["category"], "alternate");
    assert_eq!(stored_members(&app, x.delegation).await, 2);

    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (_, body) = post_sheet(&app, &x.members(), &x.focal.token, XLSX, noise).await;
    assert_eq!(problem_fields(&body, 422), ["body"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("is not an XLSX workbook")),
        "{body}"
    );
    assert_eq!(stored_members(&app, x.delegation).await, 2);
}

#[actix_web::test]
async fn a_sheet_is_replayed_under_its_idempotency_key_and_refused_after_the_deadline() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "replay").await;
    let send = |key: &'static str, body: String| {
        app.client
            .request(Method::POST, format!("{}{}", app.address, x.members()))
            .header("content-type", CSV)
            .header("idempotency-key", key)
            .bearer_auth(&x.focal.token)
            .body(body)
            .send()
    };
    let first = status_json(send("sheet-1", nominations_csv(3)).await.expect("send")).await;
    let again = status_json(send("sheet-1", nominations_csv(3)).await.expect("send")).await;
    assert_eq!(first.0, 201, "{}", first.1);
    assert_eq!(first, again, "the same answer, replayed");
    assert_eq!(stored_members(&app, x.delegation).await, 3, "stored once");
    // Another sheet under the same key is refused, as for JSON bodies.
    let other = status_json(send("sheet-1", nominations_csv(4)).await.expect("send")).await;
    assert_eq!(other.0, 422, "{}", other.1);

    let (s, conf) = app
        .patch(
            &format!("/api/v1/conferences/{}", x.conference),
            Some(&x.owner.token),
            &json!({"nominations_close_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, 200, "{conf}");
    let late = status_json(send("sheet-2", nominations_csv(2)).await.expect("send")).await;
    assert_eq!(late.0, 409, "{}", late.1);
    assert_eq!(late.1["type"], "/problems/nominations-closed");
    assert_eq!(stored_members(&app, x.delegation).await, 3);
}

#[actix_web::test]
async fn a_sheet_of_many_bad_rows_lists_a_hundred_errors_and_counts_the_rest() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "many").await;
    let mut csv = String::from("full_name,gender\n");
    for i in 0..150 {
        csv.push_str(&format!("Person {i},unknown\n"));
    }
    let (s, body) = post_sheet(&app, &x.members(), &x.owner.token, CSV, csv.into_bytes()).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(100));
    assert_eq!(body["errors_omitted"], 50);
    assert_eq!(body["errors"][99]["field"], "row 101, gender");
    // A media type that is neither JSON nor a sheet is 415 naming the ones read.
    let (s, body) = post_sheet(
        &app,
        &x.members(),
        &x.owner.token,
        "text/plain",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(s, 415, "{body}");
    assert!(body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("text/csv")));
    assert_eq!(stored_members(&app, x.delegation).await, 0);
}
