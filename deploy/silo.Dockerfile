# The silo image: built with the .NET SDK, run on the ASP.NET runtime as a non-root user.
#   docker build -f deploy/silo.Dockerfile -t xmbl-silo .
# Configuration comes from XMBL_* / Xmbl__Section__Key environment variables or arguments after the image name
# (docs/configuration.md). State lives in the /data volume (node keys, operator key, shard stores).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Only what the build reads (see .dockerignore): the shared build settings, the sources and the SQL schema that the
# persistence library embeds.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
COPY deploy/sql/ deploy/sql/
RUN dotnet publish src/Silo/Silo.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The image's non-root user ($APP_UID, 1654 "app") owns the data directory; the process never runs as root.
RUN mkdir -p /data && chown "$APP_UID" /data
USER $APP_UID
# Listen on every interface inside the container; other members dial the address set by XMBL_ADVERTISE / --advertise
# (the service name in docker-compose.yml), never 0.0.0.0.
ENV XMBL_DATA=/data \
    ASPNETCORE_URLS=http://0.0.0.0:5080
VOLUME /data
# 5080: REST API, dashboard, shard transport; 11111: Orleans silo-to-silo; 30000: Orleans clients (standalone gateways).
EXPOSE 5080 11111 30000
# /healthz answers 200 while the silo is a healthy member (503 otherwise); the image has no curl, bash does the GET.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "Xmbl.Cluster.Silo.dll"]
