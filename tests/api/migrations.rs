use diesel_async::RunQueryDsl;

use crate::helpers::fresh_database;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn tables(url: &str) -> i64 {
    use diesel_async::AsyncConnection;
    let mut conn = diesel_async::AsyncPgConnection::establish(url)
        .await
        .expect("connect");
    let rows: Vec<Count> = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .await
    .expect("count");
    <[_]>::first(&rows).map(|r| r.n).unwrap_or(-1)
}

#[actix_web::test]
async fn every_down_sql_reverts_its_migration() {
    let db = fresh_database().await;
    let url = db.url.clone();
    assert!(tables(&url).await >= 11);
    plenary::db::revert_all(&url).await.expect("revert");
    assert_eq!(tables(&url).await, 0);
    plenary::store::reference::migrate(&url)
        .await
        .expect("migrate again");
    assert!(tables(&url).await >= 11);
}
