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
