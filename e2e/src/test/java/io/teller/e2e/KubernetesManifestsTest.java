package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.teller.backend.BackendMain;
import io.teller.backend.BackendSettings;
import io.teller.balancer.BalancerMain;
import io.teller.balancer.BalancerSettings;
import io.teller.common.cluster.ClusterDiscovery;
import io.teller.common.cluster.ClusterOptions;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigLoader;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.TellerProgram;
import io.teller.registry.Readiness;
import io.teller.registry.RegistryMain;
import io.teller.registry.RegistrySettings;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.introspect.Annotated;
import tools.jackson.databind.introspect.JacksonAnnotationIntrospector;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * {@code deploy/kubernetes} checked without a Kubernetes cluster: every manifest parses strictly
 * into fabric8's typed model (an unknown or misspelt field fails), the objects fit together (the
 * issue's shape: StatefulSet, headless Service, PDBs, HPA), and the ports, probes and {@code
 * TELLER_*} variables they name are what the programs declare, checked with the programs' own
 * settings, defaults and configuration loader. When {@code kubectl} is installed, {@code kubectl
 * kustomize} builds the base and an overlay with every component, and the built objects pass the
 * same checks.
 */
@Timeout(120)
class KubernetesManifestsTest {

  static final Path ROOT = projectRoot();
  static final Path BASE = ROOT.resolve("deploy/kubernetes");
  static final List<String> COMPONENTS = List.of("api-discovery", "tls");

  /**
   * fabric8's model classes keep unknown fields in an "any setter" map, so even Jackson's
   * FAIL_ON_UNKNOWN_PROPERTIES lets a misspelt field through; without the any setter every unknown
   * field fails, naming its path.
   */
  static final YAMLMapper STRICT =
      YAMLMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .annotationIntrospector(
              new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(MapperConfig<?> config, Annotated a) {
                  return Boolean.FALSE;
                }

                @Override
                public JsonIgnoreProperties.Value findPropertyIgnoralByName(
                    MapperConfig<?> config, Annotated a) {
                  return super.findPropertyIgnoralByName(config, a).withoutIgnoreUnknown();
                }
              })
          .build();

  static final YAMLMapper YAML = new YAMLMapper();

  /** The kinds Teller's manifests use, each with its one API version. */
  static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "v1/Service", Service.class,
          "v1/ConfigMap", ConfigMap.class,
          "v1/ServiceAccount", ServiceAccount.class,
          "apps/v1/StatefulSet", StatefulSet.class,
          "apps/v1/Deployment", Deployment.class,
          "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
          "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
          "rbac.authorization.k8s.io/v1/Role", Role.class,
          "rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class);

  /** Each program, by the first argument of the image (what a container's args name). */
  static final Map<String, TellerProgram> PROGRAMS =
      Stream.of(new RegistryMain(), new BalancerMain(), new BackendMain())
          .collect(Collectors.toMap(TellerProgram::name, p -> p));

  /** Which setting each named container port is, per program. */
  static final Map<String, Map<String, Setting>> PORT_SETTINGS =
      Map.of(
          "registry",
          Map.of("api", RegistrySettings.PORT, "hazelcast", CommonSettings.CLUSTER_PORT),
          "balancer",
          Map.of(
              "https", BalancerSettings.HTTPS_PORT,
              "http", BalancerSettings.HTTP_PORT,
              "admin", BalancerSettings.ADMIN_PORT,
              "hazelcast", CommonSettings.CLUSTER_PORT),
          "sample-backend",
          Map.of("http", BackendSettings.PORT, "hazelcast", CommonSettings.CLUSTER_PORT));

  /**
   * The health endpoints each program serves, by the setting of the port they are on. Paths are
   * checked against real programs by KubernetesProbesIT; here, that probes use only these.
   */
  static final Map<String, Map<Setting, Set<String>>> PROBE_PATHS =
      Map.of(
          "registry", Map.of(RegistrySettings.PORT, Set.of("/healthz", Readiness.PATH)),
          "balancer", Map.of(BalancerSettings.ADMIN_PORT, Set.of("/healthz")),
          "sample-backend", Map.of(BackendSettings.PORT, Set.of("/health")));

  static final Set<String> RECOMMENDED_LABELS =
      Set.of("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component");
  static final Set<String> KUSTOMIZATION_LABELS =
      Set.of("app.kubernetes.io/part-of", "app.kubernetes.io/managed-by");

  static Vertx vertx;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  // ---- strict parsing

  @Test
  void everyManifestParsesStrictlyIntoTheTypedModel() throws Exception {
    List<Path> files = manifestFiles();
    assertThat(files).extracting(f -> BASE.relativize(f).toString()).contains("registry.yaml");
    int objects = 0;
    for (Path file : files) {
      objects += parse(Files.readString(file), BASE.relativize(file).toString()).size();
    }
    assertThat(objects).isGreaterThanOrEqualTo(12);
  }

  @Test
  void aMisspeltOrUnknownFieldIsRejected() throws Exception {
    String registry = Files.readString(BASE.resolve("registry.yaml"));
    assertThat(parse(registry, "registry.yaml")).isNotEmpty();

    // {what the file says, a mistake in its place, the field the error must name}
    for (String[] typo :
        new String[][] {
          {
            "publishNotReadyAddresses: true",
            "publishNotReadyAdresses: true",
            "publishNotReadyAdresses"
          },
          {"readinessProbe:", "readynessProbe:", "readynessProbe"},
          {
            "  podManagementPolicy: OrderedReady",
            "  podManagementPolicy: OrderedReady\n  colour: red",
            "colour"
          },
          {"            periodSeconds: 5", "            periodSecond: 5", "periodSecond"},
        }) {
      assertThat(registry).contains(typo[0]);
      String broken = registry.replace(typo[0], typo[1]);
      assertThatThrownBy(() -> parse(broken, "registry.yaml"))
          .as("with %s", typo[1])
          .isInstanceOf(UnrecognizedPropertyException.class)
          .hasMessageContaining("\"" + typo[2] + "\"");
    }
  }

  @Test
  void aKindOrApiVersionOutsideTheModelIsRejected() {
    assertThatThrownBy(
            () -> parse("apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: x}\n", "x"))
        .hasMessageContaining("apps/v1beta1/Deployment");
  }

  @Test
  void everyManifestFileIsPartOfTheKustomization() throws Exception {
    Set<Path> listed = new TreeSet<>();
    for (Path kustomization : kustomizationFiles()) {
      JsonNode k = YAML.readTree(kustomization.toFile());
      for (JsonNode resource : k.path("resources")) {
        Path path = kustomization.getParent().resolve(resource.asString()).normalize();
        assertThat(path).as("%s lists %s", kustomization, resource).exists();
        listed.add(path);
      }
    }
    assertThat(listed).containsExactlyInAnyOrderElementsOf(manifestFiles());
  }

  // ---- the shape the issue asks for, and the programs' settings

  @Test
  void theSourcesFitTogetherAndMatchThePrograms() throws Exception {
    Bundle bundle = sources();
    checkShape(bundle);
    checkPrograms(bundle);
    bundle.all().forEach(o -> assertThat(labels(o)).containsKeys(array(RECOMMENDED_LABELS)));
  }

  @Test
  void noTokenShips() throws Exception {
    Bundle bundle = sources();
    assertThat(bundle.of(Secret.class)).isEmpty();
    for (Container container : bundle.containers().keySet()) {
      for (EnvVar env : list(container.getEnv())) {
        if (env.getName().equals(RegistrySettings.API_TOKEN.env())) {
          assertThat(env.getValue()).as("%s's token", container.getName()).isNull();
          assertThat(env.getValueFrom().getSecretKeyRef().getOptional())
              .as("a registry without the Secret must not start with a token of its own")
              .isNotEqualTo(Boolean.TRUE);
        }
      }
    }
    assertThat(bundle.configMapData().values().stream().flatMap(m -> m.keySet().stream()))
        .doesNotContain(RegistrySettings.API_TOKEN.env());
  }

  // ---- kubectl kustomize

  @Test
  void kustomizeBuildsTheBase() throws Exception {
    Bundle built = bundle(kustomize(BASE), "kubectl kustomize deploy/kubernetes");
    checkShape(built);
    checkPrograms(built);
    Map<String, String> cluster = built.envFromConfigMaps(registryContainer(built));
    assertThat(cluster).containsEntry(CommonSettings.CLUSTER_KUBERNETES_MODE.env(), "dns");
    built
        .all()
        .forEach(
            o ->
                assertThat(labels(o))
                    .as("%s %s", o.getKind(), o.getMetadata().getName())
                    .containsKeys(array(RECOMMENDED_LABELS))
                    .containsKeys(array(KUSTOMIZATION_LABELS)));
  }

  @Test
  void kustomizeBuildsAnOverlayWithEveryComponent(@TempDir Path overlay) throws Exception {
    String base = overlay.relativize(BASE).toString();
    StringBuilder k =
        new StringBuilder(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                + "namespace: shop\nresources:\n  - "
                + base
                + "\ncomponents:\n");
    COMPONENTS.forEach(
        c -> k.append("  - ").append(base).append("/components/").append(c).append('\n'));
    Files.writeString(overlay.resolve("kustomization.yaml"), k.toString());

    Bundle built = bundle(kustomize(overlay), "an overlay with " + COMPONENTS);
    checkShape(built);
    checkPrograms(built);

    // API mode: its Role is bound to the account every Teller pod runs as, in the overlay's
    // namespace, and the discovery settings say api.
    Container registry = registryContainer(built);
    assertThat(built.envFromConfigMaps(registry))
        .containsEntry(CommonSettings.CLUSTER_KUBERNETES_MODE.env(), "api");
    RoleBinding binding = built.one(RoleBinding.class);
    Role role = built.one(Role.class);
    ServiceAccount account = built.one(ServiceAccount.class);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getName()).isEqualTo(account.getMetadata().getName());
              assertThat(s.getNamespace()).isEqualTo("shop");
            });
    assertThat(role.getRules())
        .allSatisfy(r -> assertThat(r.getVerbs()).containsOnly("get", "list"));
    for (PodTemplateSpec pod : built.podTemplates().values()) {
      assertThat(pod.getSpec().getServiceAccountName()).isEqualTo(account.getMetadata().getName());
      assertThat(pod.getSpec().getAutomountServiceAccountToken()).isTrue();
    }
    // TLS: the balancer reads its certificate and key from the Secret's volume.
    Container balancer = built.container("balancer");
    Map<String, String> env = built.literalEnv(balancer);
    String mount =
        balancer.getVolumeMounts().stream()
            .filter(m -> m.getName().equals("tls"))
            .findFirst()
            .orElseThrow()
            .getMountPath();
    assertThat(env.get(BalancerSettings.TLS_CERT.env())).startsWith(mount + "/");
    assertThat(env.get(BalancerSettings.TLS_KEY.env())).startsWith(mount + "/");
  }

  // ---- checks shared by the sources and the built objects

  /** The objects the issue asks for, and that they refer to each other correctly. */
  static void checkShape(Bundle bundle) {
    StatefulSet registry = bundle.one(StatefulSet.class);
    assertThat(programOf(registry.getSpec().getTemplate())).isEqualTo("registry");
    assertThat(registry.getSpec().getReplicas()).isEqualTo(3);
    assertThat(registry.getSpec().getVolumeClaimTemplates()).hasSize(1);
    String claim = registry.getSpec().getVolumeClaimTemplates().get(0).getMetadata().getName();
    assertThat(only(registry.getSpec().getTemplate()).getVolumeMounts())
        .anySatisfy(
            m -> {
              assertThat(m.getName()).isEqualTo(claim);
              assertThat(m.getMountPath()).isEqualTo(imageDataDir());
            });

    Service headless = bundle.service(registry.getSpec().getServiceName());
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
    assertSelects(headless.getSpec().getSelector(), registry.getSpec().getTemplate());
    // Discovery looks up exactly this Service (its name works in DNS and in API mode).
    for (Container container : bundle.containers().keySet()) {
      assertThat(bundle.envFromConfigMaps(container))
          .as(container.getName())
          .containsEntry(
              CommonSettings.CLUSTER_DISCOVERY.env(), CommonSettings.DISCOVERY_KUBERNETES)
          .containsEntry(
              CommonSettings.CLUSTER_KUBERNETES_SERVICE.env(), headless.getMetadata().getName());
    }
    assertThat(pdbFor(bundle, registry.getSpec().getTemplate()).getSpec().getMaxUnavailable())
        .isEqualTo(new IntOrString(1));

    Deployment balancer = bundle.deployment("balancer");
    assertThat(balancer.getSpec().getReplicas()).isEqualTo(2);
    Service front =
        bundle.of(Service.class).stream()
            .filter(s -> "LoadBalancer".equals(s.getSpec().getType()))
            .collect(single("LoadBalancer Service"));
    assertSelects(front.getSpec().getSelector(), balancer.getSpec().getTemplate());
    assertThat(pdbFor(bundle, balancer.getSpec().getTemplate())).isNotNull();

    Deployment backends = bundle.deployment("sample-backend");
    HorizontalPodAutoscaler hpa = bundle.one(HorizontalPodAutoscaler.class);
    assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
    assertThat(hpa.getSpec().getScaleTargetRef().getName())
        .isEqualTo(backends.getMetadata().getName());
    assertThat(hpa.getSpec().getMinReplicas()).isLessThanOrEqualTo(hpa.getSpec().getMaxReplicas());
    assertThat(backends.getSpec().getReplicas()).as("the HPA owns the number").isNull();

    // Every Service's target ports are ports of the pods it selects.
    for (Service service : bundle.of(Service.class)) {
      PodTemplateSpec pod =
          bundle.podTemplates().values().stream()
              .filter(p -> selects(service.getSpec().getSelector(), p))
              .collect(single("pods of Service " + service.getMetadata().getName()));
      Set<String> named =
          only(pod).getPorts().stream().map(ContainerPort::getName).collect(Collectors.toSet());
      for (ServicePort port : service.getSpec().getPorts()) {
        assertThat(named)
            .as("Service %s", service.getMetadata().getName())
            .contains(port.getTargetPort().getStrVal());
      }
    }

    for (Map.Entry<Container, PodTemplateSpec> entry : bundle.containers().entrySet()) {
      Container c = entry.getKey();
      PodTemplateSpec pod = entry.getValue();
      assertThat(labels(pod)).as("%s's pods", c.getName()).containsKeys(array(RECOMMENDED_LABELS));
      for (String resource : List.of("cpu", "memory")) {
        Quantity request = c.getResources().getRequests().get(resource);
        Quantity limit = c.getResources().getLimits().get(resource);
        assertThat(request).as("%s requests %s", c.getName(), resource).isNotNull();
        assertThat(limit).as("%s limits %s", c.getName(), resource).isNotNull();
        assertThat(limit.getNumericalAmount()).isGreaterThanOrEqualTo(request.getNumericalAmount());
      }
      assertThat(c.getReadinessProbe()).as("%s readiness", c.getName()).isNotNull();
      assertThat(c.getLivenessProbe()).as("%s liveness", c.getName()).isNotNull();
      // The pod's own address, which the other members reach it at.
      assertThat(
              list(c.getEnv()).stream()
                  .filter(e -> e.getName().equals(CommonSettings.CLUSTER_HOST.env()))
                  .map(e -> e.getValueFrom().getFieldRef().getFieldPath()))
          .containsExactly("status.podIP");
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
      assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    }
  }

  /**
   * Every container runs one program: its {@code TELLER_*} variables (its own and its ConfigMaps')
   * are settings of that program and load through the program's own loader and checks, its named
   * ports are the ports those settings give, its probes use those ports and the program's health
   * paths, and its grace period covers its drain.
   */
  void checkPrograms(Bundle bundle) throws Exception {
    Set<String> programsSeen = new TreeSet<>();
    for (Map.Entry<Container, PodTemplateSpec> entry : bundle.containers().entrySet()) {
      Container container = entry.getKey();
      String name = programOf(entry.getValue());
      TellerProgram program = PROGRAMS.get(name);
      assertThat(program).as("program %s of container %s", name, container.getName()).isNotNull();
      programsSeen.add(name);

      Map<String, Setting> settings = new LinkedHashMap<>();
      Stream.concat(CommonSettings.ALL.stream(), program.settings().stream())
          .forEach(s -> settings.put(s.env(), s));
      Map<String, String> env = new LinkedHashMap<>(bundle.envFromConfigMaps(container));
      for (EnvVar var : list(container.getEnv())) {
        if (var.getValue() != null) {
          env.put(var.getName(), var.getValue());
        } else if (var.getValueFrom().getFieldRef() != null) {
          env.put(var.getName(), "10.1.2.3"); // status.podIP
        } else {
          env.put(var.getName(), "from-a-secret");
        }
      }
      JsonObject file = new JsonObject();
      for (Map.Entry<String, String> e : env.entrySet()) {
        if (!e.getKey().startsWith("TELLER_")) {
          continue;
        }
        Setting setting = settings.get(e.getKey());
        assertThat(setting)
            .as("%s in container %s is a setting of the %s", e.getKey(), container.getName(), name)
            .isNotNull();
        put(file, setting.path(), e.getValue());
      }
      TellerConfig config = load(program, file);
      program.check(config);
      // The same checks the launcher makes before joining (api mode takes a Service's name).
      assertThat(ClusterOptions.from(config, program.role()).discovery().mode())
          .isNotEqualTo(ClusterDiscovery.Mode.TCP);

      Map<String, Setting> portSettings = PORT_SETTINGS.get(name);
      Map<String, Integer> ports = new LinkedHashMap<>();
      for (ContainerPort port : container.getPorts()) {
        Setting setting = portSettings.get(port.getName());
        assertThat(setting)
            .as("port %s of %s is one of %s", port.getName(), name, portSettings.keySet())
            .isNotNull();
        assertThat(port.getContainerPort())
            .as("port %s of %s is %s", port.getName(), name, setting.env())
            .isEqualTo(config.integer(setting));
        ports.put(port.getName(), port.getContainerPort());
      }
      assertThat(ports.keySet()).containsAll(portSettings.keySet());

      Map<Setting, Set<String>> paths = PROBE_PATHS.get(name);
      for (Probe probe :
          Stream.of(
                  container.getStartupProbe(),
                  container.getReadinessProbe(),
                  container.getLivenessProbe())
              .filter(p -> p != null)
              .toList()) {
        String portName = probe.getHttpGet().getPort().getStrVal();
        Setting portSetting = portSettings.get(portName);
        assertThat(paths).as("probe port %s of %s", portName, name).containsKey(portSetting);
        assertThat(paths.get(portSetting)).contains(probe.getHttpGet().getPath());
      }
      if (name.equals("registry")) {
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo(Readiness.PATH);
      }

      long grace = entry.getValue().getSpec().getTerminationGracePeriodSeconds();
      long preStop =
          container.getLifecycle() == null
              ? 0
              : Long.parseLong(container.getLifecycle().getPreStop().getExec().getCommand().get(1));
      long drain =
          name.equals("sample-backend") ? config.integer(BackendSettings.DRAIN_MS) / 1000 : 0;
      // The program's own stop is bounded at 30 s (TellerLauncher); the grace period covers it.
      assertThat(grace).as("%s's grace period", name).isGreaterThanOrEqualTo(preStop + 30);
      assertThat(grace).isGreaterThan(preStop + drain);
    }
    assertThat(programsSeen).containsExactlyInAnyOrderElementsOf(PROGRAMS.keySet());
  }

  // ---- reading

  /** The objects of the source files, with the ConfigMaps the kustomization generates. */
  static Bundle sources() throws Exception {
    List<HasMetadata> objects = new ArrayList<>();
    for (Path file : manifestFiles()) {
      if (!file.startsWith(BASE.resolve("components"))) {
        objects.addAll(parse(Files.readString(file), BASE.relativize(file).toString()));
      }
    }
    JsonNode kustomization = YAML.readTree(BASE.resolve("kustomization.yaml").toFile());
    for (JsonNode generator : kustomization.path("configMapGenerator")) {
      Map<String, String> data = new LinkedHashMap<>();
      for (JsonNode literal : generator.path("literals")) {
        String[] kv = literal.asString().split("=", 2);
        data.put(kv[0], kv[1]);
      }
      ConfigMap map = new ConfigMap();
      map.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
      map.getMetadata().setName(generator.path("name").asString());
      map.getMetadata().setLabels(new LinkedHashMap<>());
      generator
          .path("options")
          .path("labels")
          .properties()
          .forEach(e -> map.getMetadata().getLabels().put(e.getKey(), e.getValue().asString()));
      map.setData(data);
      objects.add(map);
    }
    return new Bundle(objects);
  }

  static Bundle bundle(String yaml, String origin) {
    return new Bundle(parse(yaml, origin));
  }

  /** Parses every document of {@code yaml} strictly into its typed class. */
  static List<HasMetadata> parse(String yaml, String origin) {
    List<HasMetadata> objects = new ArrayList<>();
    try (var values = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
      while (values.hasNextValue()) {
        JsonNode node = values.nextValue();
        if (node == null || node.isNull() || node.isMissingNode() || node.isEmpty()) {
          continue;
        }
        String key = node.path("apiVersion").asString() + "/" + node.path("kind").asString();
        Class<? extends HasMetadata> type = KINDS.get(key);
        if (type == null) {
          fail("%s: %s is not a kind these manifests use (%s)", origin, key, KINDS.keySet());
        }
        objects.add(STRICT.treeToValue(node, type));
      }
    }
    return objects;
  }

  static String kustomize(Path dir) throws Exception {
    Assumptions.assumeTrue(
        kubectlInstalled(),
        "kubectl is not installed: `kubectl kustomize` was not run (the sources were still"
            + " checked); install kubectl to run this part");
    Path out = Files.createTempFile("kustomize", ".yaml");
    Path err = Files.createTempFile("kustomize", ".err");
    try {
      Process process =
          new ProcessBuilder("kubectl", "kustomize", dir.toString())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        fail("kubectl kustomize %s did not finish within 60 s", dir);
      }
      assertThat(process.exitValue())
          .as("kubectl kustomize %s: %s", dir, Files.readString(err))
          .isZero();
      return Files.readString(out);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  static boolean kubectlInstalled() {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, "kubectl")));
  }

  TellerConfig load(TellerProgram program, JsonObject values) throws Exception {
    Path file = Files.createTempFile("teller-k8s", ".yaml");
    try {
      Files.writeString(file, values.encodePrettily(), StandardCharsets.UTF_8);
      List<Setting> settings = new ArrayList<>(CommonSettings.ALL);
      settings.addAll(program.settings());
      return ConfigLoader.load(vertx, program.defaultsResource(), Optional.of(file), settings)
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** The data directory the image declares ({@code ENV TELLER_DATA_DIR=...} in the Dockerfile). */
  static String imageDataDir() {
    try {
      return Files.readAllLines(ROOT.resolve("Dockerfile")).stream()
          .filter(l -> l.startsWith("ENV " + CommonSettings.DATA_DIR.env() + "="))
          .map(l -> l.substring(l.indexOf('=') + 1).strip())
          .collect(single("ENV " + CommonSettings.DATA_DIR.env() + " in the Dockerfile"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<Path> manifestFiles() throws IOException {
    try (Stream<Path> files = Files.walk(BASE)) {
      return files
          .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
          .filter(f -> !f.getFileName().toString().startsWith("kustomization."))
          .sorted()
          .toList();
    }
  }

  static List<Path> kustomizationFiles() throws IOException {
    try (Stream<Path> files = Files.walk(BASE)) {
      return files.filter(f -> f.getFileName().toString().equals("kustomization.yaml")).toList();
    }
  }

  static Path projectRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("deploy/kubernetes/kustomization.yaml"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no deploy/kubernetes above " + Path.of("").toAbsolutePath());
  }

  // ---- small helpers

  /** A set of parsed objects, with the lookups the checks need. */
  record Bundle(List<HasMetadata> all) {

    <T extends HasMetadata> List<T> of(Class<T> type) {
      return all.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type) {
      return of(type).stream().collect(single(type.getSimpleName()));
    }

    Service service(String name) {
      return of(Service.class).stream()
          .filter(s -> s.getMetadata().getName().equals(name))
          .collect(single("Service " + name));
    }

    Deployment deployment(String program) {
      return of(Deployment.class).stream()
          .filter(d -> programOf(d.getSpec().getTemplate()).equals(program))
          .collect(single("Deployment of " + program));
    }

    Map<String, PodTemplateSpec> podTemplates() {
      Map<String, PodTemplateSpec> pods = new LinkedHashMap<>();
      of(StatefulSet.class)
          .forEach(s -> pods.put(s.getMetadata().getName(), s.getSpec().getTemplate()));
      of(Deployment.class)
          .forEach(d -> pods.put(d.getMetadata().getName(), d.getSpec().getTemplate()));
      return pods;
    }

    Map<Container, PodTemplateSpec> containers() {
      Map<Container, PodTemplateSpec> containers = new LinkedHashMap<>();
      podTemplates().values().forEach(p -> containers.put(only(p), p));
      return containers;
    }

    Container container(String program) {
      return containers().entrySet().stream()
          .filter(e -> programOf(e.getValue()).equals(program))
          .map(Map.Entry::getKey)
          .collect(single("container of " + program));
    }

    Map<String, Map<String, String>> configMapData() {
      Map<String, Map<String, String>> data = new LinkedHashMap<>();
      of(ConfigMap.class).forEach(m -> data.put(m.getMetadata().getName(), m.getData()));
      return data;
    }

    /** What {@code envFrom} gives a container; every ConfigMap it names must exist. */
    Map<String, String> envFromConfigMaps(Container container) {
      Map<String, String> env = new LinkedHashMap<>();
      for (EnvFromSource from : list(container.getEnvFrom())) {
        String name = from.getConfigMapRef().getName();
        Map<String, String> data = configMapData().get(name);
        assertThat(data).as("ConfigMap %s of %s", name, container.getName()).isNotNull();
        env.putAll(data);
      }
      return env;
    }

    Map<String, String> literalEnv(Container container) {
      Map<String, String> env = new LinkedHashMap<>();
      list(container.getEnv()).stream()
          .filter(e -> e.getValue() != null)
          .forEach(e -> env.put(e.getName(), e.getValue()));
      return env;
    }
  }

  static Container registryContainer(Bundle bundle) {
    return bundle.container("registry");
  }

  static String programOf(PodTemplateSpec pod) {
    List<String> args = only(pod).getArgs();
    assertThat(args).as("container args name the program").isNotEmpty();
    return args.get(0);
  }

  static Container only(PodTemplateSpec pod) {
    assertThat(pod.getSpec().getContainers()).hasSize(1);
    return pod.getSpec().getContainers().get(0);
  }

  static PodDisruptionBudget pdbFor(Bundle bundle, PodTemplateSpec pod) {
    return bundle.of(PodDisruptionBudget.class).stream()
        .filter(p -> selects(p.getSpec().getSelector().getMatchLabels(), pod))
        .collect(single("PodDisruptionBudget of " + programOf(pod)));
  }

  static boolean selects(Map<String, String> selector, PodTemplateSpec pod) {
    return selector != null
        && !selector.isEmpty()
        && labels(pod).entrySet().containsAll(selector.entrySet());
  }

  static void assertSelects(Map<String, String> selector, PodTemplateSpec pod) {
    assertThat(selects(selector, pod)).as("%s selects %s", selector, labels(pod)).isTrue();
  }

  static Map<String, String> labels(HasMetadata object) {
    Map<String, String> labels = object.getMetadata().getLabels();
    return labels == null ? Map.of() : labels;
  }

  static Map<String, String> labels(PodTemplateSpec pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels == null ? Map.of() : labels;
  }

  static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }

  static String[] array(Set<String> set) {
    return set.toArray(String[]::new);
  }

  static void put(JsonObject json, String path, String value) {
    String[] parts = path.split("\\.");
    JsonObject node = json;
    for (int i = 0; i < parts.length - 1; i++) {
      if (!(node.getValue(parts[i]) instanceof JsonObject)) {
        node.put(parts[i], new JsonObject());
      }
      node = node.getJsonObject(parts[i]);
    }
    node.put(parts[parts.length - 1], value);
  }

  static <T> java.util.stream.Collector<T, ?, T> single(String what) {
    return Collectors.collectingAndThen(
        Collectors.toList(),
        found -> {
          assertThat(found).as("exactly one %s", what).hasSize(1);
          return found.get(0);
        });
  }
}
