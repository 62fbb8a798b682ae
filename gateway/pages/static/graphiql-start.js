// Start GraphiQL on the page it is loaded in. The settings come from the page's JSON block
// (the CSP allows no inline script); queries go to the page's own URL, so /t/{tenant}/graphql
// works as /graphql does.
(function start() {
  "use strict";
  var root = document.getElementById("graphiql");
  if (typeof window.GraphiQL === "undefined" || typeof window.ReactDOM === "undefined") {
    document.getElementById("graphiql-loading").textContent =
      "Không tải được GraphiQL · GraphiQL's files did not load. Are they built? " +
      "npm ci --prefix console && npm run build --prefix console";
    return;
  }
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var endpoint = new URL(window.location.pathname, window.location.href).href;
  var send = window.GraphiQL.createFetcher({
    url: endpoint,
    subscriptionUrl: endpoint.replace(/^http/, "ws"),
  });
  // The untouched template is no token: leave it out, so the schema still loads (anonymously)
  // instead of a 401 for "Bearer <token>" before a real one is pasted.
  var template = JSON.parse(config.headers);
  var fetcher = function (params, options) {
    var headers = Object.assign({}, options && options.headers);
    Object.keys(template).forEach(function (name) {
      if (headers[name] === template[name]) delete headers[name];
    });
    return send(params, Object.assign({}, options, { headers: headers }));
  };
  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.query,
      defaultHeaders: config.headers,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
    }),
  );
})();
