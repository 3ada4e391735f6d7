// GraphiQL for /graphql: operations POSTed to this page's path, subscriptions over WebSocket at
// the same path. Credentials go in the Headers tab: {"Authorization": "Bearer eva_..."}; the
// socket sends the same headers in its connection_init (a browser cannot set them on a socket).
(function () {
  var path = window.location.pathname;
  var headers = {};
  var base = GraphiQL.createFetcher({
    url: path,
    wsClient: graphqlWs.createClient({
      url: window.location.origin.replace(/^http/, "ws") + path,
      lazy: true,
      connectionParams: function () { return headers; },
    }),
  });
  function fetcher(params, options) {
    headers = (options && options.headers) || {};
    return base(params, options);
  }

  function App() {
    var state = React.useState("");
    var explorer = GraphiQLPluginExplorer.useExplorerPlugin({ query: state[0], onEdit: state[1] });
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      query: state[0],
      onEditQuery: state[1],
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultHeaders: '{\n  "Authorization": "Bearer eva_..."\n}',
      defaultEditorToolsVisibility: true,
    });
  }

  ReactDOM.render(React.createElement(App), document.getElementById("graphiql"));
})();
