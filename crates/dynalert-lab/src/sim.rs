//! The simulated Kubernetes endpoint's model: pods with several containers, their CPU and
//! memory usage, limits and waiting reasons, rendered with the real cAdvisor and
//! kube-state-metrics 2.x metric names and labels.
//!
//! A laptop has no kubelet and no kube-state-metrics, so scenarios B and C cannot use real
//! ones; everything else about the pipeline (scrape, rules, Alertmanager) is real. Every
//! series carries `simulated="true"` so it can never be mistaken for a real cluster's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// One container as the scenario runner sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub name: String,
    /// CPU limit in cores; `None`: no limit.
    pub cpu_limit_cores: Option<f64>,
    /// Current CPU usage in cores (the counter grows by this many seconds per second).
    pub cpu_usage_cores: f64,
    pub memory_limit_bytes: Option<f64>,
    pub memory_working_set_bytes: f64,
    /// `kube_pod_container_status_waiting_reason` while set, e.g. `CrashLoopBackOff`.
    #[serde(default)]
    pub waiting_reason: Option<String>,
}

/// One pod as the scenario runner sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodSpec {
    pub namespace: String,
    pub name: String,
    pub containers: Vec<ContainerSpec>,
}

#[derive(Debug)]
struct Counter {
    seconds: f64,
    rate: f64,
    at: Instant,
}

impl Counter {
    fn advance(&mut self, now: Instant) {
        self.seconds += self.rate * now.duration_since(self.at).as_secs_f64();
        self.at = now;
    }
}

/// The endpoint's state: pods and one CPU counter per container.
#[derive(Debug, Default)]
pub struct Cluster {
    pods: BTreeMap<(String, String), PodSpec>,
    counters: BTreeMap<(String, String, String), Counter>,
    /// Bumped on every change, so a pod re-created under the same name gets a new uid.
    generation: u64,
    uids: BTreeMap<(String, String), String>,
}

impl Cluster {
    /// The lab's steady state: a few pods with several containers, all well under their limits.
    pub fn baseline() -> Cluster {
        let mut c = Cluster::default();
        for pod in baseline_pods() {
            c.put(pod);
        }
        c
    }

    pub fn pods(&self) -> Vec<PodSpec> {
        self.pods.values().cloned().collect()
    }

    /// Adds or replaces a pod; CPU counters of containers that stay keep counting.
    pub fn put(&mut self, pod: PodSpec) {
        let now = Instant::now();
        let key = (pod.namespace.clone(), pod.name.clone());
        if !self.uids.contains_key(&key) {
            self.generation += 1;
            self.uids.insert(
                key.clone(),
                format!("00000000-0000-4000-8000-{:012}", self.generation),
            );
        }
        for c in &pod.containers {
            let ck = (pod.namespace.clone(), pod.name.clone(), c.name.clone());
            let counter = self.counters.entry(ck).or_insert(Counter {
                seconds: 0.0,
                rate: 0.0,
                at: now,
            });
            counter.advance(now);
            counter.rate = c.cpu_usage_cores;
        }
        self.counters.retain(|(ns, p, cn), _| {
            (ns != &pod.namespace || p != &pod.name) || pod.containers.iter().any(|c| &c.name == cn)
        });
        self.pods.insert(key, pod);
    }

    pub fn delete(&mut self, namespace: &str, name: &str) -> bool {
        let key = (namespace.to_string(), name.to_string());
        self.counters
            .retain(|(ns, p, _), _| ns != namespace || p != name);
        self.uids.remove(&key);
        self.pods.remove(&key).is_some()
    }

    pub fn reset(&mut self) {
        *self = Cluster {
            generation: self.generation,
            ..Cluster::default()
        };
        for pod in baseline_pods() {
            self.put(pod);
        }
    }

    /// Prometheus text exposition of the current state.
    pub fn render(&mut self) -> String {
        let now = Instant::now();
        for c in self.counters.values_mut() {
            c.advance(now);
        }
        let mut cpu = String::new();
        let mut mem = String::new();
        let mut limits = String::new();
        let mut waiting = String::new();
        for ((ns, pod_name), pod) in &self.pods {
            let uid = &self.uids[&(ns.clone(), pod_name.clone())];
            let node = "lab-node-1";
            let cg = format!("/kubepods/burstable/pod{uid}");
            let mut pod_cpu = 0.0;
            let mut pod_mem = 0.0;
            for c in &pod.containers {
                let secs = self.counters[&(ns.clone(), pod_name.clone(), c.name.clone())].seconds;
                pod_cpu += secs;
                pod_mem += c.memory_working_set_bytes;
                let image = format!("registry.example/{}:1.0", c.name);
                let id = format!("{cg}/{}", c.name);
                let name = format!("k8s_{}_{}_{}_{}_0", c.name, pod_name, ns, uid);
                let _ = writeln!(
                    cpu,
                    "container_cpu_usage_seconds_total{{container=\"{}\",cpu=\"total\",id=\"{id}\",image=\"{image}\",name=\"{name}\",namespace=\"{ns}\",pod=\"{pod_name}\",simulated=\"true\"}} {secs:.6}",
                    c.name
                );
                let _ = writeln!(
                    mem,
                    "container_memory_working_set_bytes{{container=\"{}\",id=\"{id}\",image=\"{image}\",name=\"{name}\",namespace=\"{ns}\",pod=\"{pod_name}\",simulated=\"true\"}} {}",
                    c.name, c.memory_working_set_bytes
                );
                if let Some(l) = c.cpu_limit_cores {
                    let _ = writeln!(
                        limits,
                        "kube_pod_container_resource_limits{{container=\"{}\",namespace=\"{ns}\",node=\"{node}\",pod=\"{pod_name}\",resource=\"cpu\",simulated=\"true\",uid=\"{uid}\",unit=\"core\"}} {l}",
                        c.name
                    );
                }
                if let Some(l) = c.memory_limit_bytes {
                    let _ = writeln!(
                        limits,
                        "kube_pod_container_resource_limits{{container=\"{}\",namespace=\"{ns}\",node=\"{node}\",pod=\"{pod_name}\",resource=\"memory\",simulated=\"true\",uid=\"{uid}\",unit=\"byte\"}} {l}",
                        c.name
                    );
                }
                if let Some(r) = &c.waiting_reason {
                    let _ = writeln!(
                        waiting,
                        "kube_pod_container_status_waiting_reason{{container=\"{}\",namespace=\"{ns}\",pod=\"{pod_name}\",reason=\"{r}\",simulated=\"true\",uid=\"{uid}\"}} 1",
                        c.name
                    );
                }
            }
            // The pod-level cgroup (container="") as the kubelet serves it; rules must skip it.
            let _ = writeln!(
                cpu,
                "container_cpu_usage_seconds_total{{container=\"\",cpu=\"total\",id=\"{cg}\",image=\"\",name=\"\",namespace=\"{ns}\",pod=\"{pod_name}\",simulated=\"true\"}} {pod_cpu:.6}"
            );
            let _ = writeln!(
                mem,
                "container_memory_working_set_bytes{{container=\"\",id=\"{cg}\",image=\"\",name=\"\",namespace=\"{ns}\",pod=\"{pod_name}\",simulated=\"true\"}} {pod_mem}"
            );
        }
        format!(
            "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds. (simulated by the dynalert lab)\n\
             # TYPE container_cpu_usage_seconds_total counter\n{cpu}\
             # HELP container_memory_working_set_bytes Current working set in bytes. (simulated by the dynalert lab)\n\
             # TYPE container_memory_working_set_bytes gauge\n{mem}\
             # HELP kube_pod_container_resource_limits The number of requested limit resource by a container. (simulated by the dynalert lab)\n\
             # TYPE kube_pod_container_resource_limits gauge\n{limits}\
             # HELP kube_pod_container_status_waiting_reason Describes the reason the container is currently in waiting state. (simulated by the dynalert lab)\n\
             # TYPE kube_pod_container_status_waiting_reason gauge\n{waiting}"
        )
    }
}

/// A container with a 1-core, 1 GiB limit using `cpu` cores and 30% of its memory.
pub fn container(name: &str, cpu: f64) -> ContainerSpec {
    ContainerSpec {
        name: name.to_string(),
        cpu_limit_cores: Some(1.0),
        cpu_usage_cores: cpu,
        memory_limit_bytes: Some(1073741824.0),
        memory_working_set_bytes: 322122547.0,
        waiting_reason: None,
    }
}

fn baseline_pods() -> Vec<PodSpec> {
    vec![
        PodSpec {
            namespace: "shop".into(),
            name: "web-6d8f9c7b5-x2k4q".into(),
            containers: vec![
                container("app", 0.20),
                container("sidecar-proxy", 0.05),
                container("log-shipper", 0.02),
            ],
        },
        PodSpec {
            namespace: "batch".into(),
            name: "worker-5c9d8b7f6-p7m2z".into(),
            containers: vec![container("worker", 0.30), container("sidecar-proxy", 0.05)],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_real_names_and_simulated_label() {
        let mut c = Cluster::baseline();
        let text = c.render();
        for name in [
            "container_cpu_usage_seconds_total{",
            "container_memory_working_set_bytes{",
            "kube_pod_container_resource_limits{",
        ] {
            assert!(text.contains(name), "missing {name}");
        }
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.contains("simulated=\"true\""), "{line}");
        }
        assert!(!text.contains("kube_pod_container_status_waiting_reason{"));
    }

    #[test]
    fn waiting_reason_appears_only_while_set() {
        let mut c = Cluster::baseline();
        let mut pod = c.pods()[0].clone();
        pod.containers[0].waiting_reason = Some("CrashLoopBackOff".into());
        c.put(pod.clone());
        assert!(c.render().contains("reason=\"CrashLoopBackOff\""));
        pod.containers[0].waiting_reason = None;
        c.put(pod);
        assert!(!c.render().contains("CrashLoopBackOff"));
    }
}
