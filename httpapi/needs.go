package httpapi

import (
	"tokend"
	"tokend/perm"
)

// routeNeeds says what each route requires of a caller, for the legacy-key report's
// suggestions (which token should replace a legacy key in a given place). It mirrors the checks
// the service makes; TestRouteNeedsCoverEveryRoute keeps it complete.
var routeNeeds = map[string]tokend.RouteNeed{
	"GET /api/v2/accounts/":               {Any: true},
	"GET /api/v3/accounts/":               {Any: true},
	"GET /api/v2/accounts/{account_id}/":  {Any: true},
	"POST /api/v2/accounts/{account_id}/": {Resource: perm.AccountSettings, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/":  {Any: true},
	"GET /api/v2/whoami/":                 {Any: true},
	"GET /api/v3/whoami/":                 {Any: true},

	"GET /api/v3/accounts/{account_id}/users/":             {Resource: perm.Users, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/users/":            {Resource: perm.Users, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/users/{id}/":        {Resource: perm.Users, Access: perm.Read},
	"GET /api/v2/accounts/{account_id}/users/":             {Resource: perm.Users, Access: perm.Read},
	"GET /api/v2/accounts/{account_id}/users/{id}/":        {Resource: perm.Users, Access: perm.Read},
	"POST /api/v2/accounts/{account_id}/permissions/{id}/": {Resource: perm.Licenses, Access: perm.Write},

	"GET /api/v3/accounts/{account_id}/groups/":                        {Resource: perm.Groups, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/groups/":                       {Resource: perm.Groups, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/groups/{id}/":                   {Resource: perm.Groups, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/groups/{id}/":                  {Resource: perm.Groups, Access: perm.Write},
	"POST /api/v3/accounts/{account_id}/group-permissions/{group_id}/": {Resource: perm.Groups, Access: perm.Write},
	"POST /api/v3/accounts/{account_id}/assign-groups/":                {Resource: perm.Groups, Access: perm.Write},

	"GET /api/v3/accounts/{account_id}/projects/":         {Resource: perm.Projects, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/projects/":        {Resource: perm.Projects, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/projects/{id}/":    {Resource: perm.Projects, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/projects/{id}/":   {Resource: perm.Projects, Access: perm.Write},
	"DELETE /api/v3/accounts/{account_id}/projects/{id}/": {Resource: perm.Projects, Access: perm.Write},

	"GET /api/v3/accounts/{account_id}/ip-restrictions/":             {Resource: perm.IPRestrictions, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/ip-restrictions/":            {Resource: perm.IPRestrictions, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/ip-restrictions/{id}/":        {Resource: perm.IPRestrictions, Access: perm.Read},
	"PUT /api/v3/accounts/{account_id}/ip-restrictions/{id}/":        {Resource: perm.IPRestrictions, Access: perm.Write},
	"DELETE /api/v3/accounts/{account_id}/ip-restrictions/{id}/":     {Resource: perm.IPRestrictions, Access: perm.Write},
	"POST /api/v3/accounts/{account_id}/ip-restrictions-set/":        {Resource: perm.IPRestrictions, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/audit-logs/":                  {Resource: perm.AuditLog, Access: perm.Read},
	"GET /api/v3/accounts/{account_id}/legacy-key-usage/":            {Resource: perm.AuditLog, Access: perm.Read},
	"GET /api/tokend/v1/accounts/{account_id}/tokens/":               {Resource: perm.ServiceTokens, Access: perm.Read},
	"POST /api/tokend/v1/accounts/{account_id}/tokens/revoke/":       {Resource: perm.ServiceTokens, Access: perm.Write},
	"GET /api/tokend/v1/accounts/{account_id}/tokens/{id}/activity/": {Resource: perm.ServiceTokens, Access: perm.Read},
	"POST /api/tokend/v1/introspect/":                                {Resource: perm.ServiceTokens, Access: perm.Read},
	"GET /api/tokend/v1/forward-auth/":                               {Any: true},
	"POST /api/tokend/v1/revoke/":                                    {Any: true},

	"GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/":         {UserContext: true},
	"POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/":        {UserContext: true},
	"GET /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/":    {UserContext: true},
	"POST /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/":   {UserContext: true},
	"DELETE /api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/{id}/": {UserContext: true},
	"GET /api/v3/users/{user_id}/credentials/":                                   {UserContext: true},
	"POST /api/v3/users/{user_id}/credentials/":                                  {UserContext: true},
	"GET /api/v3/users/{user_id}/credentials/{id}/":                              {UserContext: true},
	"POST /api/v3/users/{user_id}/credentials/{id}/":                             {UserContext: true},
	"DELETE /api/v3/users/{user_id}/credentials/{id}/":                           {UserContext: true},
	"GET /api/v2/users/{user_id}/apikey/":                                        {UserContext: true},
	"POST /api/v2/users/{user_id}/apikey/":                                       {UserContext: true},

	"GET /api/v3/accounts/{account_id}/service-tokens/":                                 {Resource: perm.ServiceTokens, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/service-tokens/":                                {Resource: perm.ServiceTokens, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/service-tokens/{id}/":                            {Resource: perm.ServiceTokens, Access: perm.Read},
	"PUT /api/v3/accounts/{account_id}/service-tokens/{id}/":                            {Resource: perm.ServiceTokens, Access: perm.Write},
	"POST /api/v3/accounts/{account_id}/service-tokens/{id}/":                           {Resource: perm.ServiceTokens, Access: perm.Write},
	"DELETE /api/v3/accounts/{account_id}/service-tokens/{id}/":                         {Resource: perm.ServiceTokens, Access: perm.Write},
	"GET /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/":  {Resource: perm.ServiceTokens, Access: perm.Read},
	"POST /api/v3/accounts/{account_id}/service-tokens/{service_token_id}/permissions/": {Resource: perm.ServiceTokens, Access: perm.Write},
}

// RouteNeeds returns what each route requires, keyed by "METHOD /path/".
func RouteNeeds() map[string]tokend.RouteNeed { return routeNeeds }
