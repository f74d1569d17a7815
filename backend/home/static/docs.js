// Swagger UI on this service's OpenAPI document (no inline script: the pages' CSP allows none).
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // never send the document to swagger.io's online validator
    tryItOutEnabled: false,
  });
})();
