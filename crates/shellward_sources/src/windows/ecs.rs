//! Elastic Common Schema fields back to taxonomy names (`mappings/ecs.toml`).

use super::tables::Tables;
use crate::mapping::template;
use shellward_event::{Event, FieldName};

/// Adds the taxonomy name of every ECS field the event has, unless the event already has it.
pub(crate) fn alias(event: &mut Event) {
    let tables = Tables::get();
    let mut added = Vec::new();
    for (ecs, sigma) in &tables.ecs_fields {
        if event.get(sigma).is_none()
            && let Some(v) = event.get(ecs)
        {
            added.push((FieldName::Borrowed(*sigma), v.clone()));
        }
    }
    for (sigma, parts) in &tables.ecs_templates {
        if event.get(sigma).is_none()
            && let Some(text) = template(parts, event)
        {
            added.push((FieldName::Borrowed(*sigma), text.into()));
        }
    }
    for (name, value) in added {
        event.insert(name, value);
    }
}
