//! Shape checks of the routing blocks (`routing:` in platform files, `_routing` in tenant files).
//!
//! The blocks are kept as JSON for the Alertmanager generator, which owns their meaning.

use dynalert_model::routing::{PlatformRouting, TenantRouting};

use crate::diag::Ctx;
use crate::values::show;
use crate::yaml::Node;

pub(crate) fn parse_platform_routing(ctx: &mut Ctx, node: &Node) -> Option<PlatformRouting> {
    if node.as_map().is_none() {
        ctx.error(node.pos, format!("`routing` must be a mapping, found {}", show(node)));
        return None;
    }
    Some(PlatformRouting { raw: node.to_json() })
}

pub(crate) fn parse_tenant_routing(ctx: &mut Ctx, node: &Node) -> Option<TenantRouting> {
    if node.as_map().is_none() {
        ctx.error(node.pos, format!("`_routing` must be a mapping, found {}", show(node)));
        return None;
    }
    Some(TenantRouting { raw: node.to_json() })
}
