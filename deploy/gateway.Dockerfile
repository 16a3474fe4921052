# The standalone gateway image: an Orleans client of a cluster on PostgreSQL serving the REST API and the dashboard.
#   docker build -f deploy/gateway.Dockerfile -t xmbl-gateway .
# Needs XMBL_POSTGRES and XMBL_CLUSTER_SECRET (docs/configuration.md); /data holds only its operator key.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
COPY deploy/sql/ deploy/sql/
RUN dotnet publish src/Gateway.Host/Gateway.Host.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
RUN mkdir -p /data && chown "$APP_UID" /data
USER $APP_UID
ENV XMBL_DATA=/data \
    ASPNETCORE_URLS=http://0.0.0.0:5090
VOLUME /data
EXPOSE 5090
# /healthz answers 503 while the gateway is connected to no silo.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5090 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "Xmbl.Cluster.Gateway.Host.dll"]
