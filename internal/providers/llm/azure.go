package llm

import (
	"context"
	"net/url"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// azureBasePathEnv is the variable LangChain JS (and so Flowise) reads for the
// deployments root, e.g.
// https://westeurope.api.cognitive.microsoft.com/openai/deployments.
const azureBasePathEnv = "AZURE_OPENAI_BASE_PATH"

// chatAzureOpenAI calls an Azure OpenAI deployment with the OpenAI SDK at
// {basePath}/{deployment}/chat/completions?api-version={version}, key in the
// api-key header. The service is built without the SDK's environment
// defaults so an OPENAI_API_KEY never reaches Azure.
func chatAzureOpenAI(ctx context.Context, c call) (Response, error) {
	key, err := c.secret.field("azureOpenAIApiKey")
	if err != nil {
		return Response{}, err
	}
	deployment, err := c.secret.field("azureOpenAIApiDeploymentName")
	if err != nil {
		return Response{}, err
	}
	version, err := c.secret.field("azureOpenAIApiVersion")
	if err != nil {
		return Response{}, err
	}
	basePath, err := azureBasePath(c.cfg.BaseURL, c.secret)
	if err != nil {
		return Response{}, err
	}
	svc := openai.NewChatCompletionService(
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0), // Temporal retries
		option.WithBaseURL(basePath+"/"+url.PathEscape(deployment)),
		option.WithQuery("api-version", version),
		option.WithHeader("api-key", key),
	)
	return completeOpenAI(ctx, svc, c, false)
}

// azureBasePath picks the deployments root: the node's basepath, then the
// environment, then the resource named by the instance credential field.
func azureBasePath(configured string, secret Secret) (string, error) {
	if configured != "" {
		return strings.TrimRight(configured, "/"), nil
	}
	env, err := envBaseURL(azureBasePathEnv)
	switch {
	case err != nil:
		return "", err
	case env != "":
		return strings.TrimRight(env, "/"), nil
	}
	instance, err := secret.field("azureOpenAIApiInstanceName")
	if err != nil {
		return "", err
	}
	return "https://" + instance + ".openai.azure.com/openai/deployments", nil
}
