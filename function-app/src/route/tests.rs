use super::*;

fn template(route: &str) -> RouteTemplate {
    RouteTemplate::parse("api", route).unwrap()
}

#[test]
fn literals_come_before_complex_segments_constraints_parameters_and_the_rest() {
    let ordered = [
        "items/new",
        "items/{id}.{ext}",
        "items/{id:int}",
        "items/{id}",
        "items/{*rest}",
    ];
    for pair in ordered.windows(2) {
        assert!(
            template(pair[0]).precedence() < template(pair[1]).precedence(),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn parameters_literal_path_and_text() {
    let route = template("items/{id:int}/{name=x}/{*rest}");
    assert_eq!(route.parameters(), ["id", "name", "rest"]);
    assert_eq!(route.literal_path(), "/api/items");
    assert_eq!(route.as_str(), "/api/items/{id:int}/{name=x}/{*rest}");
    assert_eq!(
        RouteTemplate::parse("", "hello/{who}").unwrap().as_str(),
        "/hello/{who}"
    );
}

#[test]
fn dot_segments_are_parsed_as_the_host_does_but_never_match() {
    for route in ["../../x", "a/./b", "a/.."] {
        let template = template(route);
        let why = template.unmatchable().expect("unmatchable");
        assert!(why.contains("removes \".\" and \"..\""), "{why}");
    }
    // A dot inside a segment is an ordinary literal.
    assert_eq!(template("a.b/...").unmatchable(), None);
}
