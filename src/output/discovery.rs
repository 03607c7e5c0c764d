use super::table;
use crate::discovery::Discovery;

pub fn discovery_table(d: &Discovery) -> String {
    let mut t = table(&[
        "load balancer",
        "kind",
        "target group",
        "protocol",
        "port",
        "type",
    ]);
    for tg in &d.target_groups {
        t.add_row(vec![
            tg.load_balancer.clone(),
            tg.kind.short().to_string(),
            tg.name.clone(),
            tg.protocol.clone(),
            tg.port.map(|p| p.to_string()).unwrap_or_default(),
            tg.target_type.clone(),
        ]);
    }
    let lonely: Vec<&str> = d
        .load_balancers
        .iter()
        .filter(|lb| !d.target_groups.iter().any(|tg| tg.load_balancer == lb.name))
        .map(|lb| lb.name.as_str())
        .collect();
    let mut out = t.to_string();
    if !lonely.is_empty() {
        out.push_str(&format!(
            "\nno target groups behind: {} (no listener forwards anywhere)",
            lonely.join(", ")
        ));
    }
    out
}
