package chatmodels

// AzureChatOpenAI is an Azure OpenAI deployment; the credential names the instance and
// deployment, the model follows the deployment.
func (Models) AzureChatOpenAI() Model { return Model{MaxTokens: "maxTokens", BaseURL: "basepath"} }
