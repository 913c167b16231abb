# Teller: one image for the three programs; the first argument picks one
# (registry, balancer or sample-backend). Base images are pinned by version.
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
# Dependencies first, in a layer of their own: the poms alone build empty modules, which fetches
# every dependency and plugin the real build needs; a source change then rebuilds from here.
COPY pom.xml .
COPY common/pom.xml common/
COPY registry/pom.xml registry/
COPY balancer/pom.xml balancer/
COPY sample-backend/pom.xml sample-backend/
COPY e2e/pom.xml e2e/
RUN mvn -B -q -DskipTests package
COPY . .
RUN mvn -B -q -DskipTests package

# The runtime is a JRE, not a JDK; nothing is installed into it (the health check uses bash).
FROM eclipse-temurin:17.0.15_6-jre
RUN useradd --system --uid 10001 --home-dir /data teller \
    && mkdir -p /data && chown teller /data
COPY --from=build /src/registry/target/teller-registry.jar \
                  /src/balancer/target/teller-balancer.jar \
                  /src/sample-backend/target/teller-sample-backend.jar /app/
COPY docker/entrypoint.sh docker/healthcheck.sh /app/
USER teller
ENV TELLER_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["/app/entrypoint.sh"]
CMD ["registry"]
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["/app/healthcheck.sh"]
