"""Small fly.toml probes with what flyctl does with each, read from its code, and what flyconf says.

Every row was built by reading superfly/flyctl at ad0172face303b77584eea95b46fa3ddc61d5ddd (and superfly/fly-go
v0.9.6, docker/go-units v0.5.0, google/shlex, which flyctl's go.mod pins): how the file is loaded
(internal/appconfig/serde.go `unmarshalTOML`, patches.go, then Go's encoding/json into config.go `Config`),
what `Validate` refuses (validation.go), and what `fly deploy` stops on when it builds Machine configs
(machines.go, internal/command/deploy/*). The `ref` of each row names the function.

flyctl outcomes:
  loads           loads and validates; deploys as written
  warns           loads; flyctl prints a warning (Validate or deploy)
  load-error      fails to load; Validate and deploy report that error alone
  validate-error  loads, but `fly config validate` and `fly deploy` refuse it
  deploy-error    passes Validate; `fly deploy` (or the platform) stops on it
  ignored         loads, but part of what is written is silently dropped

flyconf's verdict is the sorted rule names it reports at warning or error ("clean" for none). A row where
flyconf reports an error and flyctl does not (or the reverse) carries a `why`: flyconf is deliberately
stricter (an unknown key flyctl silently drops), or follows Fly's docs or a reported issue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from flyconf import lint_text

ERRORS = {"load-error", "validate-error", "deploy-error"}


@dataclass(frozen=True)
class Probe:
    name: str
    toml: str
    flyctl: str
    ref: str
    verdict: str  # comma-separated rule names, sorted, or "clean"
    why: str = ""  # required when flyconf's error/no-error outcome differs from flyctl's


P = Probe
PROBES: list[Probe] = [
    # -- loading: serde.go unmarshalTOML, patches.go -------------------------------------------------
    P("minimal", 'app = "probe"\n', "loads", "serde.go unmarshalTOML", "clean"),
    P("toml syntax", 'app = "probe\n', "load-error", "serde.go unmarshalTOML (go-toml DecodeError)", "toml-syntax"),
    P("env strings", '[env]\nPORT = "8080"\n', "loads", "patches.go _patchEnv", "clean"),
    P("env integer stringified", "[env]\nPORT = 8080\n", "loads", "patches.go _patchEnv (fmt %v)", "clean"),
    P("env array of tables", '[[env]]\nA = "1"\n[[env]]\nB = "2"\n', "loads", "patches.go _patchEnv", "clean"),
    P("env as a string", 'env = "A=1"\n', "load-error", "patches.go _patchEnv", "invalid-type"),
    P("processes table", '[processes]\napp = "bin/server"\n', "loads", "config.go Config.Processes", "clean"),
    P("processes array form", '[[processes]]\nname = "web"\ncommand = "bin/web"\n', "loads",
      "patches.go patchProcesses", "clean"),
    P("processes empty array", "processes = []\n", "loads", "patches.go patchProcesses (dropped)", "clean"),
    P("processes as a string", 'processes = "web"\n', "load-error", "patches.go patchProcesses", "invalid-type"),
    P("process comment after space-hash", "[processes]\napp = \"node server.js # it's the main one\"\n", "loads",
      "processgroups.go InitCmd (google/shlex comments)", "clean"),
    P("process unclosed quote", "[processes]\napp = \"node 'server.js\"\n", "validate-error",
      "validation.go validateProcessesSection", "command-unparseable"),
    P("process trailing backslash", "[processes]\napp = 'bin/run \\'\n", "validate-error",
      "validation.go validateProcessesSection", "command-unparseable"),
    P("release_command unclosed", "[deploy]\nrelease_command = 'bin/migrate \"x'\n", "validate-error",
      "validation.go validateDeploySection", "command-unparseable"),
    P("console_command unclosed", "console_command = \"bin/rails console '\"\n", "validate-error",
      "validation.go validateConsoleCommand", "command-unparseable"),
    P("build_target alias", '[build]\nbuild_target = "web"\n', "loads", "patches.go patchBuild", "clean"),
    P("build as a string", 'build = "Dockerfile"\n', "load-error", "patches.go patchBuild", "invalid-type"),
    P("build args not strings", "[build.args]\nVERSION = 3\n", "load-error", "config.go Build.Args map[string]string",
      "invalid-type"),
    P("experimental cmd string", '[experimental]\ncmd = "node"\n', "loads", "patches.go stringOrSliceToSlice",
      "clean"),
    P("experimental cmd non-string item", "[experimental]\ncmd = [\"node\", 3]\n", "load-error",
      "patches.go stringOrSliceToSlice", "invalid-type"),
    P("experimental kill_timeout migrated", "[experimental]\nkill_timeout = 3\n", "loads",
      "patches.go patchExperimental", "clean"),
    P("single vm table, integer memory", "[vm]\nmemory = 512\n", "loads", "patches.go patchCompute (castToString)",
      "clean"),
    P("compute alias", '[[compute]]\nsize = "shared-cpu-2x"\n', "loads", "patches.go patchCompute", "clean"),
    P("singular mount table", '[mount]\nsource = "data"\ndestination = "/data"\ninitial_size = 2\n', "loads",
      "patches.go patchMounts", "clean"),
    P("metric alias", "[metric]\nport = 9091\npath = \"/metrics\"\n", "loads", "patches.go patchMetrics", "clean"),
    P("top-level unknown key", "regions = [\"ams\"]\n", "ignored", "patches.go mapToConfig (encoding/json)",
      "unknown-key", why="stricter: flyctl silently drops keys it has no field for"),
    P("unknown key in a mount", '[[mounts]]\nsource = "data"\ndestinaton = "/data"\n', "ignored",
      "patches.go mapToConfig; strict_validate.go misses [[mounts]]",
      "unknown-key", why="stricter: the misspelt destination is dropped"),
    P("v1 key", "[[services]]\ninternal_port = 8080\nprotocol = \"tcp\"\nscript_checks = [{ command = \"x\" }]\n"
      "[[services.ports]]\nport = 80\nhandlers = [\"http\"]\n", "ignored", "config.go Service (no such field)",
      "ignored-key"),
    # -- case: encoding/json matches fields ignoring case; the patches use exact names ------------------
    P("[[Mounts]] dropped", '[[Mounts]]\nsource = "data"\ndestination = "/data"\n', "ignored",
      "patches.go patchMounts then mapToConfig (later \"mounts\": null wins)", "unknown-key",
      why="stricter: the dropped mount is reported as an error"),
    P("[Mounts] table", '[Mounts]\nsource = "data"\ndestination = "/data"\n', "load-error",
      "patches.go mapToConfig (object into []Mount)", "invalid-type"),
    P("[[VM]] dropped", '[[VM]]\nsize = "shared-cpu-2x"\n', "ignored", "patches.go patchCompute", "unknown-key",
      why="stricter: the dropped [[vm]] is reported as an error"),
    P("[VM] table", '[VM]\nsize = "shared-cpu-2x"\n', "load-error", "patches.go patchCompute", "invalid-type"),
    P("[[Metrics]] dropped", "[[Metrics]]\nport = 9091\npath = \"/metrics\"\n", "ignored",
      "patches.go patchMetrics", "unknown-key", why="stricter: the dropped [[metrics]] is reported as an error"),
    P("[Mount] alias miscased", '[Mount]\nsource = "data"\ndestination = "/data"\n', "ignored",
      "patches.go patchMounts (exact \"mount\"); no Config field", "unknown-key",
      why="stricter: the dropped mount is reported as an error"),
    P("[Env] read case-insensitively", '[Env]\nPORT = "8080"\n', "loads", "encoding/json case-insensitive match",
      "unknown-key", why="flyconf warns (style, and the legacy fix-ups look for `env`); not an error"),
    # -- services: patches.go _patchService, validation.go validateServicesSection ----------------------
    P("service complete", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.ports]]\nport = 443\n'
      'handlers = ["tls", "http"]\n', "loads", "validation.go validateServicesSection", "clean"),
    P("service internal_port string", '[[services]]\ninternal_port = "8080"\nprotocol = "tcp"\n[[services.ports]]\n'
      'port = "80"\nhandlers = ["http"]\n', "loads", "patches.go castToInt", "clean"),
    P("service internal_port not a number", '[[services]]\ninternal_port = "http"\nprotocol = "tcp"\n', "load-error",
      "patches.go castToInt", "invalid-value,port-invalid"),
    P("legacy concurrency string", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\nconcurrency = "12,23"\n'
      '[[services.ports]]\nport = 80\nhandlers = ["http"]\n', "loads", "patches.go _patchService", "clean"),
    P("concurrency integer", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\nconcurrency = 20\n'
      '[[services.ports]]\nport = 80\nhandlers = ["http"]\n', "load-error", "patches.go _patchService",
      "invalid-type"),
    P("concurrency string without comma", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\nconcurrency = "20"\n'
      '[[services.ports]]\nport = 80\nhandlers = ["http"]\n', "load-error", "patches.go _patchService",
      "invalid-value"),
    P("empty services table", "[[services]]\n", "loads", "patches.go patchServices (dropped)", "clean"),
    P("service without ports", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n', "warns",
      "validation.go validateServicesSection", "port-invalid"),
    P("service protocol empty", '[[services]]\ninternal_port = 8080\nprotocol = ""\n[[services.ports]]\nport = 80\n'
      'handlers = ["http"]\n', "loads", "service.go Service.Protocol (flyctl writes it)", "clean"),
    P("service protocol http", '[[services]]\ninternal_port = 8080\nprotocol = "http"\n[[services.ports]]\n'
      'port = 80\nhandlers = ["http"]\n', "loads", "service.go Service.Protocol (not checked)", "invalid-value",
      why="Fly's docs: protocol is tcp or udp"),
    P("service without internal_port", '[[services]]\nprotocol = "tcp"\n[[services.ports]]\nport = 80\n'
      'handlers = ["http"]\n', "loads", "service.go Service.InternalPort (zero)", "port-invalid",
      why="superfly/flyctl#2521: such a service routes nothing"),
    P("services processes unknown", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\nprocesses = ["web"]\n'
      '[[services.ports]]\nport = 80\nhandlers = ["http"]\n', "validate-error",
      "validation.go validateServicesSection", "unknown-process-group"),
    P("service missing processes", '[processes]\nweb = "bin/web"\n[http_service]\ninternal_port = 8080\n',
      "validate-error", "validation.go validateServicesSection", "service-missing-processes"),
    P("duplicate internal port", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.ports]]\nport = 80\n'
      'handlers = ["http"]\n[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.ports]]\nport = 8443\n',
      "deploy-error", "superfly/flyctl#1635 (platform: HTTP 504)", "duplicate-service-port"),
    P("http_service and services on 443", '[http_service]\ninternal_port = 8080\n[[services]]\ninternal_port = 9090\n'
      'protocol = "tcp"\n[[services.ports]]\nport = 443\nhandlers = ["tls"]\n', "loads",
      "not checked (superfly/flyctl#3583 asks for it)", "duplicate-service-port",
      why="one public port cannot go to two services"),
    P("handler https", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.ports]]\nport = 443\n'
      'handlers = ["https"]\n', "loads", "not checked (full-reference.toml uses it)", "handler-invalid"),
    P("port out of range", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.ports]]\nport = 70000\n'
      'handlers = ["http"]\n', "loads", "not checked", "port-invalid", why="ports are 1-65535"),
    P("autostop string", '[http_service]\ninternal_port = 8080\nauto_stop_machines = "stop"\n', "loads",
      "fly-go MachineAutostop.UnmarshalJSON", "clean"),
    P("autostop boolean", '[http_service]\ninternal_port = 8080\nauto_stop_machines = true\n', "loads",
      "fly-go MachineAutostop.UnmarshalJSON", "clean"),
    P("autostop unknown string", '[http_service]\ninternal_port = 8080\nauto_stop_machines = "always"\n',
      "load-error", "fly-go MachineAutostop.UnmarshalJSON", "invalid-value"),
    P("http_service internal_port string", '[http_service]\ninternal_port = "8080"\n', "load-error",
      "config.go HTTPService.InternalPort (no castToInt)", "invalid-type"),
    P("udp autostart", '[[services]]\ninternal_port = 5353\nprotocol = "udp"\nauto_start_machines = true\n'
      '[[services.ports]]\nport = 53\n', "loads", "not checked", "autostart-udp"),
    # -- checks: toplevelcheck.go, validation.go, patches.go _patchCheck, machines.go ----------------------
    P("top-level check complete", '[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = "http"\n'
      'interval = "15s"\ntimeout = "2s"\npath = "/up"\n', "loads", "validation.go validateChecksSection", "clean"),
    P("check without type", '[http_service]\ninternal_port = 8080\n[checks.alive]\npath = "/up"\n',
      "validate-error", "toplevelcheck.go toMachineCheck", "invalid-value"),
    P("check type grpc", '[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = "grpc"\n', "validate-error",
      "toplevelcheck.go toMachineCheck", "invalid-value"),
    P("check interval string too short", '[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = "tcp"\n'
      'interval = "1s"\n', "validate-error", "validation.go validateChecksSection", "check-timing"),
    P("check interval bare ms too short", '[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = "tcp"\n'
      "interval = 1500\n", "validate-error", "patches.go _patchCheck (ms); validateChecksSection", "check-timing"),
    P("check interval bare ms fine", '[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = "tcp"\n'
      "interval = 15000\n", "loads", "patches.go _patchCheck (ms)", "clean"),
    P("check timeout too long", '[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = "tcp"\n'
      'timeout = "61s"\n', "validate-error", "validation.go validateChecksSection", "check-timing"),
    P("check duration without unit", '[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = "tcp"\n'
      'interval = "30"\n', "load-error", "fly-go Duration.ParseDuration (time.ParseDuration)", "invalid-value"),
    P("checks list form", '[http_service]\ninternal_port = 8080\n[[checks]]\nname = "alive"\ntype = "tcp"\n',
      "loads", "patches.go patchTopLevelChecks", "clean"),
    P("checks list item without name", '[http_service]\ninternal_port = 8080\n[[checks]]\ntype = "tcp"\n',
      "load-error", "patches.go patchTopLevelChecks (\"check item name not a string\")", "invalid-value"),
    P("checks as a string", 'checks = "alive"\n', "load-error", "patches.go patchTopLevelChecks", "invalid-type"),
    P("check headers empty list", '[http_service]\ninternal_port = 8080\n[checks.pg]\ntype = "http"\nheaders = []\n',
      "loads", "patches.go _patchCheck (dropped)", "clean"),
    P("check without port, no http_service", '[checks.alive]\ntype = "tcp"\n', "deploy-error",
      "machines.go updateMachineConfig", "check-port-missing"),
    P("check without port, http_service in the group", '[http_service]\ninternal_port = 8080\n[checks.alive]\n'
      'type = "tcp"\n', "loads", "machines.go updateMachineConfig", "clean"),
    P("http_service check bare number", '[http_service]\ninternal_port = 8080\n[[http_service.checks]]\n'
      "interval = 10000\n", "warns", "fly-go Duration (ns); validation.go validateServiceCheckDurations",
      "duration-unit"),
    P("tcp_checks bare ms", '[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.ports]]\nport = 80\n'
      'handlers = ["http"]\n[[services.tcp_checks]]\ninterval = 10000\n', "loads", "patches.go _patchCheck (ms)",
      "clean"),
    P("service check over a minute", '[http_service]\ninternal_port = 8080\n[[http_service.checks]]\n'
      'interval = "2m"\n', "warns", "validation.go validateSingleServiceCheckDuration", "check-timing"),
    P("machine check without command", '[http_service]\ninternal_port = 8080\n[[http_service.machine_checks]]\n'
      'image = "curlimages/curl"\n', "deploy-error", "machines.go ToTestMachineConfig", "machine-check-command-missing"),
    P("machine check with command", '[[machine_checks]]\ncommand = ["curl", "-f", "http://x/up"]\n', "loads",
      "machines.go ToTestMachineConfig", "clean"),
    # -- restart: validation.go validateRestartPolicy, machines.go parseRestartPolicy ---------------------------
    P("restart policy", '[[restart]]\npolicy = "on-failure"\nretries = 5\n', "loads",
      "machines.go parseRestartPolicy", "clean"),
    P("restart without policy", "[[restart]]\nretries = 5\n", "validate-error", "machines.go parseRestartPolicy",
      "invalid-value"),
    P("restart policy unknown", '[[restart]]\npolicy = "sometimes"\n', "validate-error",
      "machines.go parseRestartPolicy", "invalid-value"),
    P("restart single table", '[restart]\npolicy = "always"\n', "load-error", "config.go Config.Restart []Restart",
      "invalid-type"),
    P("restart unknown group", '[[restart]]\npolicy = "always"\nprocesses = ["web"]\n', "validate-error",
      "validation.go validateRestartPolicy", "unknown-process-group"),
    # -- other shapes: config.go --------------------------------------------------------------------------------
    P("statics single table", '[statics]\nguest_path = "/app/public"\nurl_prefix = "/"\n', "load-error",
      "config.go Config.Statics []Static", "invalid-type"),
    P("files single table", '[files]\nguest_path = "/etc/x"\nraw_value = "eA=="\n', "load-error",
      "config.go Config.Files []File", "invalid-type"),
    P("kernel_args string", '[[vm]]\nkernel_args = "quiet"\n', "load-error", "fly-go MachineGuest.KernelArgs []string",
      "invalid-type"),
    P("swap_size_mb string", 'swap_size_mb = "512"\n', "load-error", "config.go Config.SwapSizeMB *int",
      "invalid-type"),
    P("kill_timeout integer seconds", "kill_timeout = 30\n", "loads", "patches.go patchTopFields", "clean"),
    P("kill_timeout without unit", 'kill_timeout = "30"\n', "load-error", "fly-go Duration.ParseDuration",
      "invalid-value"),
    P("kill_timeout over five minutes", 'kill_timeout = "10m"\n', "deploy-error",
      "platform: \"cannot exceed 5 minutes\" (tldraw/tldraw#8656)", "kill-timeout-range"),
    P("kill_signal misspelt", 'kill_signal = "SIGTERN"\n', "loads", "not checked; fly-go StopConfig enums",
      "invalid-value", why="fly-go's StopConfig and Fly's docs list the signals the platform takes (it refused even "
                           "a listed one, superfly/flyctl#4721)"),
    # -- mounts: validation.go validateMounts (docker/go-units v0.5.0 FromHumanSize) ----------------------------
    P("mount sizes fine", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "10GB"\n', "loads",
      "validation.go validateMounts", "clean"),
    P("initial_size 10Gi", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "10Gi"\n',
      "validate-error", "go-units parseSize (invalid suffix 'gi')", "mount-size-invalid"),
    P("initial_size +10", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "+10"\n', "loads",
      "helpers.ParseSize (strconv.Atoi)", "clean"),
    P("initial_size 1e1GB", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "1e1GB"\n', "loads",
      "go-units parseSize (strconv.ParseFloat)", "clean"),
    P("initial_size 10GiB", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "10GiB"\n', "loads",
      "go-units FromHumanSize (decimal)", "clean"),
    P("initial_size 999MB", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "999MB"\n',
      "validate-error", "validation.go validateMounts (smaller than 1GB)", "mount-size-invalid"),
    P("initial_size float", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = 1.5\n',
      "validate-error", "patches.go castToString (\"1.5\" is 1.5 bytes)", "mount-size-invalid"),
    P("initial_size empty", '[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = ""\n', "loads",
      "validation.go validateMounts (skipped)", "clean"),
    P("snapshot_retention zero", '[[mounts]]\nsource = "data"\ndestination = "/data"\nsnapshot_retention = 0\n',
      "validate-error", "validation.go validateMounts", "mount-size-invalid"),
    P("auto-extend threshold only", '[[mounts]]\nsource = "data"\ndestination = "/data"\n'
      "auto_extend_size_threshold = 80\n", "validate-error", "validation.go validateMounts (all or none)",
      "mount-size-invalid"),
    P("auto-extend without limit", '[[mounts]]\nsource = "data"\ndestination = "/data"\n'
      'auto_extend_size_threshold = 80\nauto_extend_size_increment = "1GB"\n', "loads",
      "validation.go validateMounts (limit optional)", "clean"),
    P("auto-extend increment only", '[[mounts]]\nsource = "data"\ndestination = "/data"\n'
      'auto_extend_size_increment = "1GB"\n', "validate-error", "validation.go validateMounts (threshold 50-99)",
      "mount-size-invalid"),
    P("auto-extend limit too big", '[[mounts]]\nsource = "data"\ndestination = "/data"\n'
      'auto_extend_size_threshold = 80\nauto_extend_size_increment = "1GB"\nauto_extend_size_limit = "600GB"\n',
      "validate-error", "validation.go validateMounts", "mount-size-invalid"),
    P("auto-extend integer increment", '[[mounts]]\nsource = "data"\ndestination = "/data"\n'
      "auto_extend_size_threshold = 80\nauto_extend_size_increment = 1\n", "load-error",
      "config.go Mount.AutoExtendSizeIncrement string (no patch)", "invalid-type"),
    P("auto-extend zero threshold", '[[mounts]]\nsource = "data"\ndestination = "/data"\n'
      "auto_extend_size_threshold = 0\n", "loads", "validation.go validateMounts (zero is unset)", "clean"),
    P("two mounts in one group", '[[mounts]]\nsource = "a"\ndestination = "/a"\n[[mounts]]\nsource = "b"\n'
      'destination = "/b"\n', "deploy-error", "platform \"only 1 volume supported\" (superfly/flyctl#2625)",
      "multiple-mounts-per-process"),
    P("mount for an unknown group", '[[mounts]]\nsource = "data"\ndestination = "/data"\nprocesses = ["web"]\n',
      "ignored", "processgroups.go Flatten (dropped)", "mount-unknown-process-group",
      why="stricter: a mount that reaches no group is reported as an error"),
    P("mount on /", '[[mounts]]\nsource = "data"\ndestination = "/"\n', "loads", "not checked",
      "mount-destination-reserved", why="Fly's docs (apps/volume-storage): destination cannot be /"),
    P("volume name with a hyphen", '[[mounts]]\nsource = "my-data"\ndestination = "/data"\n', "loads",
      "not checked", "volume-name-invalid", why="Fly's docs: letters, digits and underscores only"),
    P("canary with a mount", '[deploy]\nstrategy = "canary"\n[[mounts]]\nsource = "data"\ndestination = "/data"\n',
      "validate-error", "validation.go validateDeploySection", "volume-deploy-strategy"),
    # -- deploy and build ------------------------------------------------------------------------------------------
    P("strategy misspelt", '[deploy]\nstrategy = "blue-green"\n', "validate-error",
      "validation.go validateDeploySection", "invalid-value"),
    P("strategy empty", '[deploy]\nstrategy = ""\n', "loads", "machines.go setStrategy (rolling)", "clean"),
    P("bluegreen without checks", '[deploy]\nstrategy = "bluegreen"\n[http_service]\ninternal_port = 8080\n',
      "deploy-error", "strategy_bluegreen.go (\"at least 1 check\")", "bluegreen-without-checks"),
    P("bluegreen with a check", '[deploy]\nstrategy = "bluegreen"\n[http_service]\ninternal_port = 8080\n'
      '[[http_service.checks]]\npath = "/up"\n', "loads", "strategy_bluegreen.go", "clean"),
    P("max_unavailable with immediate", '[deploy]\nstrategy = "immediate"\nmax_unavailable = 2\n', "warns",
      "deploy/deploy.go (\"max-unavailable set for non-rolling strategy\")", "max-unavailable-ignored"),
    P("max_unavailable, default strategy", "[deploy]\nmax_unavailable = 2\n", "warns",
      "deploy/deploy.go warns for an unset strategy too", "clean",
      why="flyctl's warning is wrong here: the default strategy is rolling (machines.go setStrategy), which uses it"),
    P("image and dockerfile", '[build]\nimage = "nginx"\ndockerfile = "Dockerfile"\n', "warns",
      "validation.go validateBuildStrategies", "multiple-build-strategies"),
    P("compression unknown", '[build]\ncompression = "lz4"\n', "validate-error",
      "validation.go validateCompression", "invalid-value"),
    P("compression_level out of range", "[build]\ncompression_level = 12\n", "validate-error",
      "validation.go validateCompression", "invalid-value"),
    P("release_command_vm integer memory", '[deploy]\nrelease_command = "bin/migrate"\n[deploy.release_command_vm]\n'
      "memory = 2048\n", "load-error", "patches.go patchCompute ([[vm]] only)", "invalid-type"),
    P("release_command_vm string memory", '[deploy]\nrelease_command = "bin/migrate"\n[deploy.release_command_vm]\n'
      'memory = "2048"\n', "loads", "machines.go computeToGuest", "clean"),
    # -- VM: machines.go computeToGuest -------------------------------------------------------------------------
    P("vm memory 1gb", '[[vm]]\nmemory = "1gb"\n', "loads", "machines.go computeToGuest (RAMInBytes)", "clean"),
    P("vm memory zero", "[[vm]]\nmemory = 0\n", "deploy-error", "machines.go computeToGuest", "invalid-value"),
    P("vm memory under 1 MiB", '[[vm]]\nmemory = "512kb"\n', "deploy-error", "machines.go computeToGuest",
      "invalid-value"),
    P("vm memory bad suffix", '[[vm]]\nmemory = "1gigabyte"\n', "deploy-error",
      "machines.go computeToGuest (go-units)", "invalid-value"),
    P("vm size unknown", '[[vm]]\nsize = "shared-cpu-3x"\n', "deploy-error",
      "machines.go computeToGuest (fly-go SetSize)", "invalid-value"),
    P("vm persist_rootfs integer", "[[vm]]\npersist_rootfs = 2\n", "loads",
      "fly-go MachinePersistRootfs.UnmarshalJSON", "clean"),
    P("vm for an unknown group", '[[vm]]\nsize = "shared-cpu-2x"\nprocesses = ["web"]\n', "ignored",
      "processgroups.go ComputeForGroup", "unknown-process-group",
      why="stricter: a [[vm]] that reaches no group is reported as an error"),
    # -- machine_config: internal/config/machine.go, internal/containerconfig/parse.go -----------------------------
    P("machine_config json path", 'machine_config = "machine.json"\n', "loads", "config/machine.go ParseConfig",
      "clean"),
    P("machine_config yaml", 'machine_config = "machine.yaml"\n', "deploy-error", "config/machine.go ParseConfig",
      "machine-config-invalid"),
    P("machine_config bad json", "machine_config = '{\"init\": '\n", "deploy-error", "config/machine.go ParseConfig",
      "machine-config-invalid"),
    P("container not in machine_config", "container = \"web\"\nmachine_config = '{\"containers\": "
      "[{\"name\": \"app\"}]}'\n", "deploy-error", "containerconfig/parse.go ParseContainerConfig",
      "machine-config-invalid"),
    P("container in machine_config", "container = \"web\"\nmachine_config = '{\"containers\": [{\"name\": \"web\"}]}'\n",
      "loads", "containerconfig/parse.go ParseContainerConfig", "clean"),
    # -- Dockerfile path: deploy_build.go resolveDockerfilePath --------------------------------------------------
    P("remote Dockerfile", '[build]\ndockerfile = "https://example.com/Dockerfile"\n', "loads",
      "deploy_build.go resolveDockerfilePath (dockerfileurl.IsURL)", "clean"),
    P("malformed Dockerfile URL", '[build]\ndockerfile = "https:/example.com/Dockerfile"\n', "deploy-error",
      "deploy_build.go resolveDockerfilePath (\"invalid Dockerfile URL\")", "dockerfile-missing"),
]


def _verdict(text: str) -> str:
    diags = lint_text(text, "fly.toml")
    names = sorted({d.rule for d in diags if d.severity.value in ("warning", "error")})
    return ",".join(names) or "clean"


def _flyconf_errs(text: str) -> bool:
    return any(d.severity.value == "error" for d in lint_text(text, "fly.toml"))


def test_there_are_enough_probes():
    assert len(PROBES) >= 100
    assert len({p.name for p in PROBES}) == len(PROBES)


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_probe(probe: Probe):
    assert probe.flyctl in ERRORS | {"loads", "warns", "ignored"}
    assert probe.ref
    assert _verdict(probe.toml) == probe.verdict
    flyctl_errs = probe.flyctl in ERRORS
    if _flyconf_errs(probe.toml) != flyctl_errs:
        assert probe.why, f"{probe.name}: flyconf and flyctl disagree on whether this fails; say why"
    if flyctl_errs:
        # Whatever flyctl refuses, flyconf must report as an error: never a false "clean".
        assert _flyconf_errs(probe.toml), probe.name


def agreement() -> dict[str, int]:
    """How many probes flyconf and flyctl agree on (fails or not), and how the others differ."""
    out = {"probes": len(PROBES), "agree": 0, "stricter, flyctl drops it": 0, "stricter, docs or issue": 0,
           "laxer": 0}
    for p in PROBES:
        ours, theirs = _flyconf_errs(p.toml), p.flyctl in ERRORS
        if ours == theirs:
            out["agree"] += 1
        elif ours:
            out["stricter, flyctl drops it" if p.flyctl == "ignored" else "stricter, docs or issue"] += 1
        else:
            out["laxer"] += 1
    return out


def test_agreement():
    counts = agreement()
    assert counts["laxer"] == 0  # flyconf never passes what flyctl refuses
    assert counts["agree"] + counts["stricter, flyctl drops it"] + counts["stricter, docs or issue"] == len(PROBES)
