namespace Xmbl.Cluster.Storage.Policies;

/// <summary>Who may reach a namespace.</summary>
public enum AccessLevel
{
    /// <summary>One task (job) owns the namespace: only that task and the account that submitted it.</summary>
    TaskIsolated = 0,

    /// <summary>One service owns the namespace: the service's tasks and the service's account.</summary>
    ServiceShared = 1,

    /// <summary>Visible across the mesh, but only to the owner and to accounts with an explicit grant.</summary>
    MeshGlobal = 2,
}

/// <summary>Operations on objects, combinable.</summary>
[Flags]
public enum ObjectOperations
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Read an object (GET, HEAD).</summary>
    Read = 1,

    /// <summary>Create or replace an object (PUT).</summary>
    Write = 2,

    /// <summary>Delete an object.</summary>
    Delete = 4,

    /// <summary>List a namespace.</summary>
    List = 8,

    /// <summary>Every operation.</summary>
    All = Read | Write | Delete | List,
}
