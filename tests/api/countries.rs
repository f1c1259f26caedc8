use crate::helpers::spawn_app;

#[actix_web::test]
async fn every_api_md_alias_resolves_to_its_code() {
    let app = spawn_app().await;
    for (input, code) in [
        ("KH", "KH"),
        ("khm", "KH"),
        ("Laos", "LA"),
        ("Lao%20PDR", "LA"),
        ("South%20Korea", "KR"),
        ("Republic%20of%20Korea", "KR"),
        ("Vietnam", "VN"),
        ("Viet%20Nam", "VN"),
        ("East%20Timor", "TL"),
        ("Brunei", "BN"),
        ("T%C3%BCrkiye", "TR"),
        ("Turkey", "TR"),
    ] {
        let (s, body) = app.get(&format!("/api/v1/countries/{input}"), None).await;
        assert_eq!(s, 200, "{input}: {body}");
        assert_eq!(body["code"], code, "{input}");
    }
}

#[actix_web::test]
async fn country_has_iso_and_m49_fields() {
    let app = spawn_app().await;
    let (s, kh) = app.get("/api/v1/countries/KH", None).await;
    assert_eq!(s, 200);
    assert_eq!(kh["alpha3"], "KHM");
    assert_eq!(kh["numeric"], "116");
    assert_eq!(kh["region"], "Asia");
    assert_eq!(kh["subregion"], "South-eastern Asia");
    let (_, af) = app.get("/api/v1/countries/AF", None).await;
    assert_eq!(af["numeric"], "004");
}

#[actix_web::test]
async fn unknown_country_is_404() {
    let app = spawn_app().await;
    let (s, _) = app.get("/api/v1/countries/Atlantis", None).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn list_pages_through_all_249_entries_without_repeats() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/countries?limit=100".to_string();
    loop {
        let (s, page) = app.get(&path, None).await;
        assert_eq!(s, 200);
        for c in page["items"].as_array().expect("items") {
            seen.push(c["code"].as_str().unwrap_or("").to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/countries?limit=100&cursor={c}"),
            None => break,
        }
    }
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(seen.len(), 249);
    assert_eq!(dedup.len(), 249);
}

#[actix_web::test]
async fn q_matches_codes_names_and_aliases() {
    let app = spawn_app().await;
    let (_, by_alias) = app.get("/api/v1/countries?q=laos", None).await;
    assert_eq!(by_alias["items"][0]["code"], "LA");
    let (_, by_code) = app.get("/api/v1/countries?q=KHM", None).await;
    assert_eq!(by_code["items"][0]["code"], "KH");
}
