use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use plenary::db::schema::{conferences, delegations};
use plenary::import::{import_document, Outcome};

use crate::helpers::{spawn_app, LIANYUNGANG};

#[actix_web::test]
async fn everything_in_data_imports_and_reimport_changes_nothing() {
    let app = spawn_app().await;
    app.import_data().await;
    let mut conn = app.conn().await;
    let before: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>)> = conferences::table
        .select((conferences::id, conferences::updated_at))
        .load(&mut conn)
        .await
        .expect("load");
    assert!(before.iter().any(|(id, _)| id.to_string() == LIANYUNGANG));
    let delegations_before: i64 = delegations::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    app.import_data().await;
    let after: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>)> = conferences::table
        .select((conferences::id, conferences::updated_at))
        .load(&mut conn)
        .await
        .expect("load");
    let delegations_after: i64 = delegations::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(before, after);
    assert_eq!(delegations_before, delegations_after);
    // Lianyungang 2025 (15 delegations) and Beijing 2023 (13).
    assert_eq!(delegations_after, 15 + 13);
}

#[actix_web::test]
async fn an_invalid_document_stores_nothing() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    let countries = plenary::store::reference::country_index(&mut conn)
        .await
        .expect("countries");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/lianyungang-2025.json"
    ))
    .expect("read");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["delegations"][14]["organisation"] = serde_json::json!("No Such Organisation");
    let r = import_document(&mut conn, &countries, &doc, "test", None).await;
    assert!(r.is_err());
    doc["delegations"][3]["country"] = serde_json::json!("Atlantis");
    let r = import_document(&mut conn, &countries, &doc, "test", None).await;
    let message = format!("{:#}", r.err().map(|e| e.to_string()).unwrap_or_default());
    assert!(message.contains("delegations[3].country"), "{message}");
    let n: i64 = conferences::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    let orgs: i64 = plenary::db::schema::organisations::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!((n, orgs), (0, 0));
    // Fixed, the same document imports, then is unchanged on a second run.
    let good: serde_json::Value = serde_json::from_str(&text).expect("json");
    let first = import_document(&mut conn, &countries, &good, "test", None)
        .await
        .expect("import");
    assert!(matches!(
        first,
        Outcome::Created {
            delegations: 15,
            ..
        }
    ));
    let second = import_document(&mut conn, &countries, &good, "test", None)
        .await
        .expect("import");
    assert!(matches!(second, Outcome::Unchanged { .. }));
}
