# One image, two commands: peerpull-agent (DaemonSet) and peerpull-tracker (StatefulSet), as the
# reconciler runs them (capabilities/reconciler/desired-objects/).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Other packages' install scripts stay off; sockopt (the peer port's send-queue cap, a small N-API
# addon whose Linux prebuild is unusable) is compiled here, hence the toolchain in this stage only.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/* \
 && npm ci --ignore-scripts && npm rebuild sockopt
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
WORKDIR /opt/peerpull
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/build ./build
RUN ln -s /opt/peerpull/build/peerpull-agent.js /usr/local/bin/peerpull-agent \
 && ln -s /opt/peerpull/build/peerpull-tracker.js /usr/local/bin/peerpull-tracker
USER 65532:65532
EXPOSE 65001 65002 65010
ENTRYPOINT []
CMD ["peerpull-agent", "--help"]
