//! Letters of credentials (API.md "Accreditation"): a PDF per delegation, uploaded by its
//! focal points or the organisers, reviewed by the organisers, mirrored on the delegation.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, TestApp};

/// A small, well-formed PDF (one empty page, with its cross-reference table), as
/// `scripts/minimal_pdf.py` makes it.
pub(crate) const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n\
2 0 obj\n<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n\
3 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>\nendobj\n\
xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000054 00000 n \n0000000105 00000 n \n\
trailer\n<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n";

/// `PUT` of `body` as `content_type` to `path`; status and JSON body.
pub(crate) async fn put_document(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut rb = app
        .client
        .request(Method::PUT, format!("{}{path}", app.address))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    status_json(rb.send().await.expect("send")).await
}

struct World {
    url: String,
    delegation: String,
    owner: String,
    focal_point: String,
    other_focal_point: String,
    stranger: String,
}

async fn world(app: &TestApp) -> World {
    let owner = app.organiser("owner@example.org", false).await;
    let stranger = app.organiser("stranger@example.org", false).await;
    let f = app
        .fixture()
        .owner(&owner)
        .delegation("KH")
        .focal_point("fp@example.org")
        .delegation("TH")
        .focal_point("other@example.org")
        .build()
        .await;
    World {
        url: f.delegation_path(0),
        delegation: f.delegations[0].clone(),
        owner: owner.token,
        focal_point: f.focal_points[0].token.clone(),
        other_focal_point: f.focal_points[1].token.clone(),
        stranger: stranger.token,
    }
}

#[actix_web::test]
async fn a_focal_point_submits_the_secretariat_verifies_and_a_new_upload_resubmits() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let credentials = format!("{}/credentials", w.url);
    let (s, none) = app.get(&credentials, Some(&w.focal_point)).await;
    assert_eq!(s, 200);
    assert_eq!(none["status"], "none");
    assert_eq!(none["sha256"], Value::Null);

    let (s, submitted) = put_document(
        &app,
        &credentials,
        Some(&w.focal_point),
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["bytes"], PDF.len());
    use sha2::Digest;
    assert_eq!(
        submitted["sha256"],
        hex::encode(sha2::Sha256::digest(PDF)).as_str()
    );
    let (_, delegation) = app.get(&w.url, None).await;
    assert_eq!(delegation["credentials"], "submitted", "mirrored");

    // The document comes back byte for byte, as an attachment.
    let r = app
        .client
        .get(format!("{}{credentials}/document", app.address))
        .bearer_auth(&w.owner)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let disposition = r.header_text("content-disposition");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    // Never sniffed or rendered as anything else, and nothing in it may load or run.
    assert_eq!(r.header_text("x-content-type-options"), "nosniff");
    assert_eq!(
        r.header_text("content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert_eq!(r.bytes().await.expect("body"), PDF);

    // The review honours If-Match.
    let r = app
        .request(Method::GET, &credentials, Some(&w.owner), None)
        .await;
    let etag = r.header_text("etag");
    assert!(!etag.is_empty());
    let (s, stale) = status_json(
        app.client
            .patch(format!("{}{credentials}", app.address))
            .bearer_auth(&w.owner)
            .header("if-match", "\"stale\"")
            .json(&json!({"status": "verified"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, 412, "{stale}");
    let (s, verified) = status_json(
        app.client
            .patch(format!("{}{credentials}", app.address))
            .bearer_auth(&w.owner)
            .header("if-match", &etag)
            .json(&json!({"status": "verified", "note": "Original seen.\nSigned by the minister."}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, 200, "{verified}");
    assert_eq!(verified["status"], "verified");
    assert!(verified["reviewed_by"].is_string());
    let (_, delegation) = app.get(&w.url, None).await;
    assert_eq!(delegation["credentials"], "verified");

    // A focal point may not review; a new upload goes back to submitted.
    let (s, _) = app
        .patch(
            &credentials,
            Some(&w.focal_point),
            &json!({"status": "verified"}),
        )
        .await;
    assert_eq!(s, 403);
    let mut second = PDF.to_vec();
    second.extend_from_slice(b"% second version\n");
    let (s, again) = put_document(
        &app,
        &credentials,
        Some(&w.focal_point),
        "application/pdf",
        second,
    )
    .await;
    assert_eq!((s, again["status"].as_str()), (200, Some("submitted")));
    assert_eq!(again["reviewed_by"], Value::Null);
    assert_ne!(again["sha256"], submitted["sha256"]);

    // Every upload and review is in the conference's log.
    let cid = w.url.split('/').nth(4).unwrap_or_default();
    let (_, log) = app
        .get(&format!("/api/v1/conferences/{cid}/log"), Some(&w.owner))
        .await;
    let entries = log["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| e["resource_type"] == "credentials")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(entries, 3, "two uploads and one review");
    let _ = w.delegation;
}

#[actix_web::test]
async fn bad_uploads_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let credentials = format!("{}/credentials", w.url);
    let token = Some(w.focal_point.as_str());
    let mut big = PDF.to_vec();
    big.resize(5 * 1024 * 1024 + 1, b' ');
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("application/pdf", big, 413, "/problems/payload-too-large"),
        (
            "image/png",
            PDF.to_vec(),
            415,
            "/problems/unsupported-media-type",
        ),
        (
            "application/json",
            b"{}".to_vec(),
            415,
            "/problems/unsupported-media-type",
        ),
        (
            "application/pdf",
            b"GIF89a not a pdf".to_vec(),
            422,
            "/problems/validation-error",
        ),
        (
            "application/pdf",
            Vec::new(),
            422,
            "/problems/validation-error",
        ),
        // Findings of the second probe: HTML behind the magic, the bare magic, a header and
        // an end without a body between them.
        (
            "application/pdf",
            b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>".to_vec(),
            422,
            "/problems/validation-error",
        ),
        (
            "application/pdf",
            b"%PDF-".to_vec(),
            422,
            "/problems/validation-error",
        ),
        (
            "application/pdf",
            b"%PDF-1.4\n%%EOF\n".to_vec(),
            422,
            "/problems/validation-error",
        ),
    ];
    for (content_type, body, status, kind) in cases {
        let (s, problem) = put_document(&app, &credentials, token, content_type, body).await;
        assert_eq!(
            (s, problem["type"].as_str()),
            (status, Some(kind)),
            "{content_type}"
        );
    }
    let (_, current) = app.get(&credentials, token).await;
    assert_eq!(current["status"], "none", "nothing stored");
    // Exactly 5 MiB is accepted.
    let mut max = PDF.to_vec();
    max.resize(5 * 1024 * 1024, b' ');
    let (s, _) = put_document(&app, &credentials, token, "application/pdf", max).await;
    assert_eq!(s, 200);
    // A review before any upload elsewhere is 409.
    let other = w
        .url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or_default();
    let (_, list) = app.get(other, None).await;
    let second = list["items"][1]["id"].as_str().unwrap_or_default();
    let (s, _) = app
        .patch(
            &format!("{other}/{second}/credentials"),
            Some(&w.owner),
            &json!({"status": "verified"}),
        )
        .await;
    assert_eq!(s, 409);
}

/// Clients generated from the spec send a binary body as `application/octet-stream` and may
/// ask for one: the upload is checked as a PDF all the same, and the download is the same bytes.
#[actix_web::test]
async fn a_generic_binary_upload_is_checked_as_a_pdf_and_downloads_as_asked() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let credentials = format!("{}/credentials", w.url);
    let token = Some(w.focal_point.as_str());
    let octets = "application/octet-stream";
    let (s, problem) = put_document(&app, &credentials, token, octets, b"GIF89a".to_vec()).await;
    assert_eq!(
        (s, problem["type"].as_str()),
        (422, Some("/problems/validation-error"))
    );
    let (_, current) = app.get(&credentials, token).await;
    assert_eq!(current["status"], "none", "nothing stored");
    let (s, submitted) = put_document(&app, &credentials, token, octets, PDF.to_vec()).await;
    assert_eq!((s, submitted["status"].as_str()), (200, Some("submitted")));
    assert_eq!(submitted["bytes"], PDF.len());

    let document = format!("{credentials}/document");
    for (accept, expected) in [
        (None, "application/pdf"),
        (Some("*/*"), "application/pdf"),
        (Some("application/octet-stream"), octets),
        (Some("application/octet-stream;q=0.9, */*;q=0.1"), octets),
        (
            Some("application/pdf, application/octet-stream"),
            "application/pdf",
        ),
    ] {
        let mut rb = app
            .client
            .get(format!("{}{document}", app.address))
            .bearer_auth(&w.owner);
        if let Some(accept) = accept {
            rb = rb.header("accept", accept);
        }
        let r = rb.send().await.expect("send");
        assert_eq!(r.status().as_u16(), 200, "{accept:?}");
        assert_eq!(r.header_text("content-type"), expected, "{accept:?}");
        assert!(r.header_text("vary").contains("Accept"), "{accept:?}");
        assert_eq!(r.header_text("x-content-type-options"), "nosniff");
        assert_eq!(r.bytes().await.expect("body"), PDF, "{accept:?}");
    }
}

#[actix_web::test]
async fn everyone_else_is_refused() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let credentials = format!("{}/credentials", w.url);
    let (s, _) = put_document(
        &app,
        &credentials,
        Some(&w.focal_point),
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(s, 200);
    let document = format!("{credentials}/document");
    for (who, token, read, write) in [
        ("anonymous", None, 404, 401),
        ("another organiser", Some(w.stranger.as_str()), 404, 403),
        (
            "another delegation's focal point",
            Some(w.other_focal_point.as_str()),
            404,
            404,
        ),
    ] {
        assert_eq!(app.get(&credentials, token).await.0, read, "{who}");
        assert_eq!(app.get(&document, token).await.0, read, "{who}");
        let (s, _) = put_document(
            &app,
            &credentials,
            token,
            "application/pdf",
            b"%PDF-evil".to_vec(),
        )
        .await;
        assert_eq!(s, write, "{who}");
        let (s, _) = app
            .patch(&credentials, token, &json!({"status": "rejected"}))
            .await;
        assert!(s == 401 || s == 403, "{who}: {s}");
    }
    let (_, current) = app.get(&credentials, Some(&w.owner)).await;
    assert_eq!(current["status"], "submitted");
    assert_eq!(current["bytes"], PDF.len(), "unchanged");
}

/// Once wrong: the upload's `ETag` was made of the in-memory row (nanosecond timestamps), so
/// it never matched the stored one (microseconds) and `If-Match` with it was 412.
#[actix_web::test]
async fn the_uploads_etag_is_the_one_get_gives_and_if_match_accepts_it() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let credentials = format!("{}/credentials", w.url);
    let r = app
        .client
        .request(Method::PUT, format!("{}{credentials}", app.address))
        .bearer_auth(&w.focal_point)
        .header("content-type", "application/pdf")
        .body(PDF.to_vec())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let tag = |r: &crate::helpers::Response| r.header_text("etag");
    let uploaded = tag(&r);
    let read = app
        .request(Method::GET, &credentials, Some(&w.owner), None)
        .await;
    assert_eq!(tag(&read), uploaded);
    let (s, body) = status_json(
        app.client
            .patch(format!("{}{credentials}", app.address))
            .bearer_auth(&w.owner)
            .header("if-match", &uploaded)
            .json(&json!({"status": "verified"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
}

/// The world of the secretariat's queue: [`world`]'s KH and TH, an organisation's delegation
/// (IOM) and two delegations that upload nothing (LA, VN), in that order of creation; uploads
/// TH, KH, IOM, verifies KH and uploads TH again. Returns the world, the queue's path and the
/// delegation ids in the order the queue must list them: KH (verified), IOM (submitted), TH
/// (submitted again, so last of the uploads), LA, VN (none, in creation order).
async fn queue_world(app: &TestApp) -> (World, String, Vec<String>) {
    let w = world(app).await;
    let delegations = w.url.rsplit_once('/').map(|(d, _)| d.to_string());
    let delegations = delegations.unwrap_or_default();
    let conference = delegations.trim_end_matches("/delegations").to_string();
    let owner = Some(w.owner.as_str());
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            owner,
            &json!({"name": "International Organization for Migration", "acronym": "IOM",
                    "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let mut created = Vec::new();
    for body in [
        json!({"organisation_id": org["id"]}),
        json!({"country": "LA"}),
        json!({"country": "VN"}),
    ] {
        let (s, d) = app.post(&delegations, owner, &body).await;
        assert_eq!(s, 201, "{d}");
        created.push(crate::helpers::id(&d));
    }
    let (_, kh) = app.get(&w.url, owner).await;
    let kh = crate::helpers::id(&kh);
    let (_, list) = app.get(&delegations, owner).await;
    let th = list["items"][1]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let iom = created[0].clone();
    let upload = |d: String| {
        let path = format!("{delegations}/{d}/credentials");
        async move {
            let (s, b) = put_document(app, &path, owner, "application/pdf", PDF.to_vec()).await;
            assert_eq!(s, 200, "{b}");
        }
    };
    upload(th.clone()).await;
    upload(kh.clone()).await;
    upload(iom.clone()).await;
    let (s, b) = app
        .patch(
            &format!("{delegations}/{kh}/credentials"),
            owner,
            &json!({"status": "verified"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    upload(th.clone()).await;
    let order = vec![kh, iom, th, created[1].clone(), created[2].clone()];
    (w, format!("{conference}/credentials"), order)
}

/// The delegation ids of a page of the queue, in order.
fn queue_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["delegation_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn the_secretariats_queue_lists_the_oldest_upload_first_then_delegations_without_one() {
    let app = spawn_app().await;
    let (w, queue, order) = queue_world(&app).await;
    let owner = Some(w.owner.as_str());
    let (s, all) = app.get(&queue, owner).await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(queue_ids(&all), order, "{all}");
    assert!(all["next_cursor"].is_null(), "{all}");
    let statuses: Vec<&str> = all["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["credentials"]["status"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        statuses,
        ["verified", "submitted", "submitted", "none", "none"]
    );
    assert_eq!(all["items"][0]["delegation"], "Cambodia");
    assert_eq!(
        all["items"][1]["delegation"],
        "International Organization for Migration (IOM)"
    );
    // Each line carries the very object of the delegation's own credentials.
    let delegations = w.url.rsplit_once('/').map(|(d, _)| d).unwrap_or_default();
    for item in all["items"].as_array().into_iter().flatten() {
        let did = item["delegation_id"].as_str().unwrap_or_default();
        let (s, own) = app
            .get(&format!("{delegations}/{did}/credentials"), owner)
            .await;
        assert_eq!(s, 200);
        assert_eq!(item["credentials"], own, "{did}");
    }
    for (status, expected) in [
        ("submitted", vec![order[1].clone(), order[2].clone()]),
        ("verified", vec![order[0].clone()]),
        ("none", vec![order[3].clone(), order[4].clone()]),
        ("provisional", vec![]),
        ("rejected", vec![]),
    ] {
        let (s, page) = app.get(&format!("{queue}?status={status}"), owner).await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(queue_ids(&page), expected, "{status}");
    }
}

#[actix_web::test]
async fn the_secretariats_queue_pages_without_repeating_or_skipping() {
    let app = spawn_app().await;
    let (w, queue, order) = queue_world(&app).await;
    let owner = Some(w.owner.as_str());
    for (filter, expected) in [("", order.clone()), ("status=none&", order[3..].to_vec())] {
        for limit in [1, 2, 3] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..10 {
                let path = match &cursor {
                    Some(c) => format!("{queue}?{filter}limit={limit}&cursor={c}"),
                    None => format!("{queue}?{filter}limit={limit}"),
                };
                let (s, page) = app.get(&path, owner).await;
                assert_eq!(s, 200, "{page}");
                let ids = queue_ids(&page);
                assert!(ids.len() <= limit, "{page}");
                seen.extend(ids);
                cursor = page["next_cursor"].as_str().map(str::to_string);
                if cursor.is_none() {
                    break;
                }
            }
            assert_eq!(seen, expected, "{filter} limit {limit}");
        }
    }
}

#[actix_web::test]
async fn the_secretariats_queue_is_refused_as_the_members_queue_is() {
    let app = spawn_app().await;
    let (w, queue, _) = queue_world(&app).await;
    let members = queue.replace("/credentials", "/members");
    for (who, token, expected) in [
        ("anonymous", None, 401),
        (
            "the delegation's focal point",
            Some(w.focal_point.as_str()),
            403,
        ),
        (
            "another delegation's focal point",
            Some(w.other_focal_point.as_str()),
            403,
        ),
        (
            "another conference's organiser",
            Some(w.stranger.as_str()),
            403,
        ),
        ("a garbage token", Some("not-a-token"), 401),
    ] {
        let (s, body) = app.get(&queue, token).await;
        assert_eq!(s, expected, "{who}: {body}");
        let (m, mbody) = app.get(&members, token).await;
        assert_eq!(s, m, "{who}: as the members queue");
        assert_eq!(body["type"], mbody["type"], "{who}");
        assert!(body.get("items").is_none(), "{who}: {body}");
    }
    let unknown = "/api/v1/conferences/019954f8-9000-7a00-8000-000000000000/credentials";
    let (s, _) = app.get(unknown, Some(&w.owner)).await;
    let (m, _) = app
        .get(&unknown.replace("/credentials", "/members"), Some(&w.owner))
        .await;
    assert_eq!((s, m), (404, 404));
}

#[actix_web::test]
async fn bad_queue_parameters_are_422_naming_them() {
    let app = spawn_app().await;
    let (w, queue, order) = queue_world(&app).await;
    let owner = Some(w.owner.as_str());
    let members = queue.replace("/credentials", "/members");
    let (_, member_page) = app.get(&format!("{members}?limit=1"), owner).await;
    let foreign = member_page["next_cursor"]
        .as_str()
        .unwrap_or("x")
        .to_string();
    // A cursor of the right shape but a date no upload can have.
    let forged = base64_url(&format!(
        "[false,\"+12000-01-01T00:00:00Z\",\"{}\"]",
        order[0]
    ));
    for (query, field) in [
        ("status=maybe", "status"),
        ("status=Submitted", "status"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        (&format!("cursor={forged}") as &str, "cursor"),
        (&format!("cursor={foreign}") as &str, "cursor"),
    ] {
        let (s, body) = app.get(&format!("{queue}?{query}"), owner).await;
        assert_eq!(s, 422, "{query}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}

/// base64url without padding, as cursors are written.
fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
