//! What a template builds on, read from the template before anything is baked.
//!
//! A base template usually starts from `source_ami_filter { most_recent = true }`:
//! the same files build on a newer image whenever upstream publishes one. kiln
//! reads each Amazon build's `source_ami` or `source_ami_filter` (HCL2 sources and
//! the builds that use them, or a legacy JSON template's builders) with the
//! variables resolved as Packer would resolve them (defaults, `PKR_VAR_*`, variable
//! files, `--var`, kiln's own `kiln_*`), so the image can be looked up and made
//! part of the inputs. What cannot be resolved this simply (a function call, a data
//! source, `{{env}}`) is reported as a reason, and the bake goes on as before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::eval::{Context as Scope, Evaluate};
use hcl::{Block, Body, Value};

use crate::model::AmiId;
use crate::tools::packer::template::{Format, Template};

/// Where Packer gets the image a build starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// `source_ami = "ami-…"`.
    Ami(AmiId),
    Filter(AmiFilter),
}

/// A `source_ami_filter`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AmiFilter {
    pub owners: Vec<String>,
    pub filters: BTreeMap<String, String>,
    pub most_recent: bool,
}

/// One Amazon build and what it starts from; `build` is Packer's name for it
/// (`amazon-ebs.base`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSource {
    pub build: String,
    pub wanted: Wanted,
}

/// The variable values Packer will see, besides the template's defaults.
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    /// kiln's own context (`kiln_source_ami`, …).
    pub context: &'a [(&'a str, String)],
    /// `PKR_VAR_*` from the environment, without the prefix.
    pub environment: &'a [(String, String)],
    pub var_files: &'a [PathBuf],
    pub vars: &'a [(String, String)],
}

/// Every Amazon build's source, or why it cannot be told before baking.
pub fn read(template: &Template, given: Given) -> Result<Vec<BuildSource>, String> {
    match template.format {
        Format::Hcl => read_hcl(&template.files, given),
        Format::Json => read_json(&template.path, given),
    }
}

fn text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn parse_hcl(path: &Path) -> Result<Body, String> {
    hcl::parse(&text(path)?).map_err(|e| format!("cannot parse {}: {e}", path.display()))
}

/// A value given as text (`--var`, `PKR_VAR_*`): a list or object when it is
/// written as one, else a string, as Packer reads it for a variable of that type.
fn typed(text: &str) -> Value {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('[') || trimmed.starts_with('{'))
        && let Ok(body) = hcl::parse(&format!("v = {text}"))
        && let Some(attr) = body.attributes().next()
        && let Ok(value) = attr.expr.evaluate(&Scope::new())
    {
        return value;
    }
    Value::String(text.to_string())
}

fn read_hcl(files: &[PathBuf], given: Given) -> Result<Vec<BuildSource>, String> {
    let mut bodies = Vec::new();
    let mut auto_files = Vec::new();
    for file in files {
        let name = file.to_string_lossy();
        if name.ends_with(".pkrvars.hcl") || name.ends_with(".pkrvars.json") {
            auto_files.push(file.clone());
        } else if name.ends_with(".pkr.json") {
            return Err(format!(
                "kiln does not read HCL2's JSON syntax ({})",
                file.display()
            ));
        } else {
            bodies.push(parse_hcl(file)?);
        }
    }
    let blocks = |kind: &'static str| {
        bodies
            .iter()
            .flat_map(move |b| b.blocks().filter(move |b| b.identifier() == kind))
    };

    // Variables, in Packer's order: defaults, environment, auto files, files, -var.
    let mut vars: hcl::Map<String, Value> = hcl::Map::new();
    let declared: Vec<String> = blocks("variable").filter_map(label(0)).collect();
    for block in blocks("variable") {
        if let (Some(name), Some(default)) = (label(0)(block), attribute(block.body(), "default"))
            && let Ok(value) = default.evaluate(&Scope::new())
        {
            vars.insert(name, value);
        }
    }
    let mut set = |name: &str, value: Value| {
        if declared.iter().any(|d| d == name) {
            vars.insert(name.to_string(), value);
        }
    };
    for (name, value) in given.context {
        set(name, Value::String(value.clone()));
    }
    for (name, value) in given.environment {
        set(name, typed(value));
    }
    for file in auto_files.iter().chain(given.var_files) {
        for (name, value) in var_file(file)? {
            set(&name, value);
        }
    }
    for (name, value) in given.vars {
        set(name, typed(value));
    }

    let mut scope = Scope::new();
    scope.declare_var("var", Value::Object(vars));
    // Locals may use each other: a few passes settle the ones that can be settled.
    let mut locals: hcl::Map<String, Value> = hcl::Map::new();
    let pending: Vec<(String, hcl::Expression)> = blocks("locals")
        .flat_map(|b| b.body().attributes())
        .map(|a| (a.key.to_string(), a.expr.clone()))
        .collect();
    for _ in 0..4 {
        scope.declare_var("local", Value::Object(locals.clone()));
        for (name, expr) in &pending {
            if !locals.contains_key(name)
                && let Ok(value) = expr.evaluate(&scope)
            {
                locals.insert(name.clone(), value);
            }
        }
    }
    scope.declare_var("local", Value::Object(locals));

    let sources: BTreeMap<String, &Block> = blocks("source")
        .filter_map(|b| match b.labels() {
            [kind, name] => Some((format!("source.{}.{}", kind.as_str(), name.as_str()), b)),
            _ => None,
        })
        .collect();
    let mut found = Vec::new();
    for build in blocks("build") {
        let mut used: Vec<(String, Option<&Block>)> = Vec::new();
        if let Some(list) = attribute(build.body(), "sources") {
            let list = list
                .evaluate(&scope)
                .map_err(|e| format!("cannot read a build's sources: {e}"))?;
            for item in list.as_array().into_iter().flatten() {
                used.extend(item.as_str().map(|s| (s.to_string(), None)));
            }
        }
        for inner in build.body().blocks().filter(|b| b.identifier() == "source") {
            used.extend(label(0)(inner).map(|s| (s, Some(inner))));
        }
        for (reference, overrides) in used {
            let Some(source) = sources.get(&reference) else {
                return Err(format!("a build uses {reference}, which no file defines"));
            };
            let kind = source.labels()[0].as_str();
            if !kind.starts_with("amazon-") {
                continue;
            }
            let name = overrides
                .and_then(|o| attribute(o.body(), "name"))
                .and_then(|e| e.evaluate(&scope).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| source.labels()[1].as_str().to_string());
            let build = format!("{kind}.{name}");
            let layers: Vec<&Body> = [overrides.map(Block::body), Some(source.body())]
                .into_iter()
                .flatten()
                .collect();
            let wanted = hcl_wanted(&layers, &scope).map_err(|e| format!("{build}: {e}"))?;
            found.push(BuildSource { build, wanted });
        }
    }
    Ok(found)
}

fn label(index: usize) -> impl Fn(&Block) -> Option<String> {
    move |block| block.labels().get(index).map(|l| l.as_str().to_string())
}

fn attribute<'b>(body: &'b Body, name: &str) -> Option<&'b hcl::Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == name)
        .map(|a| &a.expr)
}

/// `source_ami` or `source_ami_filter`, the build's own settings over the source's.
fn hcl_wanted(layers: &[&Body], scope: &Scope) -> Result<Wanted, String> {
    let eval = |expr: &hcl::Expression, what: &str| {
        expr.evaluate(scope)
            .map_err(|e| format!("cannot resolve {what}: {e}"))
    };
    let ami = layers.iter().find_map(|b| attribute(b, "source_ami"));
    if let Some(expr) = ami {
        let value = eval(expr, "source_ami")?;
        if let Some(text) = scalar(&value).filter(|t| !t.is_empty()) {
            return ami_id(&text).map(Wanted::Ami);
        }
    }
    let Some(filter) = layers.iter().find_map(|b| {
        b.blocks()
            .find(|b| b.identifier() == "source_ami_filter")
            .map(Block::body)
    }) else {
        return Err("no source_ami and no source_ami_filter".into());
    };
    let mut wanted = AmiFilter::default();
    if let Some(expr) = attribute(filter, "filters") {
        let value = eval(expr, "source_ami_filter.filters")?;
        for (name, value) in value.as_object().into_iter().flatten() {
            let value = scalar(value).ok_or("a filter value is not a string")?;
            wanted.filters.insert(name.clone(), value);
        }
    }
    // The block form some templates use: `filter { key = "…" value = "…" }`.
    for block in filter.blocks().filter(|b| b.identifier() == "filter") {
        let get = |name| attribute(block.body(), name).map(|e| eval(e, "a filter"));
        if let (Some(key), Some(value)) = (get("key"), get("value")) {
            let (key, value) = (scalar(&key?), scalar(&value?));
            wanted
                .filters
                .insert(key.unwrap_or_default(), value.unwrap_or_default());
        }
    }
    if let Some(expr) = attribute(filter, "owners") {
        let value = eval(expr, "source_ami_filter.owners")?;
        wanted.owners = value
            .as_array()
            .ok_or("source_ami_filter.owners is not a list")?
            .iter()
            .filter_map(scalar)
            .collect();
    }
    if let Some(expr) = attribute(filter, "most_recent") {
        let value = eval(expr, "source_ami_filter.most_recent")?;
        wanted.most_recent = truthy(&value)?;
    }
    Ok(Wanted::Filter(wanted))
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truthy(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(format!("most_recent is not true or false: {value}")),
    }
}

fn ami_id(text: &str) -> Result<AmiId, String> {
    AmiId::parse(text, &crate::error::Source::Argument("source_ami"))
        .map_err(|_| format!("source_ami `{text}` is not an AMI id"))
}

/// A variable file's values: HCL attributes, or a JSON object.
fn var_file(path: &Path) -> Result<Vec<(String, Value)>, String> {
    if path.to_string_lossy().ends_with(".json") {
        let json: serde_json::Value = serde_json::from_str(&text(path)?)
            .map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
        return Ok(json
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), hcl::to_value(v).ok()?)))
            .collect());
    }
    let body = parse_hcl(path)?;
    Ok(body
        .attributes()
        .filter_map(|a| {
            let value = a.expr.evaluate(&Scope::new()).ok()?;
            Some((a.key.to_string(), value))
        })
        .collect())
}

/// A legacy JSON template: each `amazon-*` builder's source, with
/// `` {{user `NAME`}} `` resolved from the `variables` block and what kiln passes.
fn read_json(path: &Path, given: Given) -> Result<Vec<BuildSource>, String> {
    let json: serde_json::Value = serde_json::from_str(&text(path)?)
        .map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let declared = json["variables"].as_object().cloned().unwrap_or_default();
    for (name, value) in &declared {
        if let Some(text) = value.as_str() {
            vars.insert(name.clone(), text.to_string());
        }
    }
    let mut set = |name: &str, value: String| {
        if declared.contains_key(name) {
            vars.insert(name.to_string(), value);
        }
    };
    for (name, value) in given.context {
        set(name, value.clone());
    }
    for file in given.var_files {
        for (name, value) in var_file(file)? {
            set(&name, scalar(&value).unwrap_or_default());
        }
    }
    for (name, value) in given.vars {
        set(name, value.clone());
    }
    let user = regex::Regex::new(r"\{\{\s*user\s+`([^`]*)`\s*\}\}").expect("a valid pattern");
    let resolve = |text: &str| -> Result<String, String> {
        let mut missing = None;
        let out = user.replace_all(text, |c: &regex::Captures| {
            vars.get(&c[1]).cloned().unwrap_or_else(|| {
                missing = Some(c[1].to_string());
                String::new()
            })
        });
        if let Some(name) = missing {
            return Err(format!("variable `{name}` has no value"));
        }
        if out.contains("{{") {
            return Err(format!(
                "`{text}` uses a template function kiln does not evaluate"
            ));
        }
        Ok(out.into_owned())
    };
    let mut found = Vec::new();
    for builder in json["builders"].as_array().into_iter().flatten() {
        let kind = builder["type"].as_str().unwrap_or_default();
        if !kind.starts_with("amazon-") {
            continue;
        }
        let build = format!("{kind}.{}", builder["name"].as_str().unwrap_or(kind));
        let wanted = json_wanted(builder, &resolve).map_err(|e| format!("{build}: {e}"))?;
        found.push(BuildSource { build, wanted });
    }
    Ok(found)
}

fn json_wanted(
    builder: &serde_json::Value,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Wanted, String> {
    if let Some(text) = builder["source_ami"].as_str() {
        let text = resolve(text)?;
        if !text.is_empty() {
            return ami_id(&text).map(Wanted::Ami);
        }
    }
    let filter = &builder["source_ami_filter"];
    if !filter.is_object() {
        return Err("no source_ami and no source_ami_filter".into());
    }
    let mut wanted = AmiFilter::default();
    for (name, value) in filter["filters"].as_object().into_iter().flatten() {
        let value = value.as_str().ok_or("a filter value is not a string")?;
        wanted.filters.insert(name.clone(), resolve(value)?);
    }
    for owner in filter["owners"].as_array().into_iter().flatten() {
        wanted
            .owners
            .push(resolve(owner.as_str().unwrap_or_default())?);
    }
    wanted.most_recent = match &filter["most_recent"] {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => resolve(s)? == "true",
        _ => false,
    };
    Ok(Wanted::Filter(wanted))
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
